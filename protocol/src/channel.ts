/**
 * Channel names: 1–255 characters of `A-Z a-z 0-9 _ - . : @ = / ,` (no spaces, no `*`, which is
 * reserved for patterns in configuration). The namespace is the part before the first `:`;
 * a channel without `:` is in the default namespace (``).
 */
export const CHANNEL_MAX_LENGTH = 255;

const CHANNEL_PATTERN = /^[A-Za-z0-9_\-.:@=/,]+$/;

export function isValidChannel(name: string): boolean {
  return name.length > 0 && name.length <= CHANNEL_MAX_LENGTH && CHANNEL_PATTERN.test(name);
}

export function namespaceOf(channel: string): string {
  const colon = channel.indexOf(':');
  return colon === -1 ? '' : channel.slice(0, colon);
}
