/** Protocol generation spoken by this package. Bumped only for incompatible wire changes. */
export const PROTOCOL_VERSION = 2;

/** The two wire formats, negotiated through `Sec-WebSocket-Protocol`. */
export type WireFormat = 'msgpack' | 'json';

export const SUBPROTOCOLS: Readonly<Record<WireFormat, string>> = {
  msgpack: 'switchboard.v2.msgpack',
  json: 'switchboard.v2.json',
};

/**
 * Picks our subprotocol from a `Sec-WebSocket-Protocol` header (a comma-separated list in the
 * client's order of preference). Returns undefined when none of ours is offered.
 */
export function negotiateSubprotocol(header: string): WireFormat | undefined {
  for (const offered of header.split(',')) {
    const name = offered.trim();
    if (name === SUBPROTOCOLS.msgpack) return 'msgpack';
    if (name === SUBPROTOCOLS.json) return 'json';
  }
  return undefined;
}
