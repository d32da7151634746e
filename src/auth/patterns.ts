import { CHANNEL_MAX_LENGTH } from '@switchboard/protocol';

/** Grants a token may carry at most; more is a malformed token, not a bigger one. */
export const MAX_GRANTS = 1_000;

const PATTERN = /^[A-Za-z0-9_\-.:@=/,*]+$/;

/**
 * Channel patterns from token claims (`orders:*`, `chat:room-1`, `*`): `*` stands for any run of
 * characters (including none and `:`), everything else matches itself exactly.
 */
export class ChannelPatterns {
  static readonly none = new ChannelPatterns([]);
  private readonly exact = new Set<string>();
  private readonly prefixes: string[] = [];
  private readonly globs: string[] = [];

  constructor(patterns: readonly string[]) {
    for (const pattern of patterns) {
      const star = pattern.indexOf('*');
      if (star === -1) this.exact.add(pattern);
      else if (star === pattern.length - 1) this.prefixes.push(pattern.slice(0, -1));
      else this.globs.push(pattern);
    }
  }

  /** Parses a claim value; undefined for something that is not a list of valid patterns. */
  static fromClaim(value: unknown): ChannelPatterns | undefined {
    if (value === undefined) return ChannelPatterns.none;
    if (!Array.isArray(value) || value.length > MAX_GRANTS) return undefined;
    for (const item of value) {
      if (typeof item !== 'string' || item.length === 0 || item.length > CHANNEL_MAX_LENGTH || !PATTERN.test(item))
        return undefined;
    }
    return new ChannelPatterns(value as string[]);
  }

  get isEmpty(): boolean {
    return this.exact.size === 0 && this.prefixes.length === 0 && this.globs.length === 0;
  }

  matches(channel: string): boolean {
    if (this.exact.has(channel)) return true;
    for (const prefix of this.prefixes) if (channel.startsWith(prefix)) return true;
    for (const glob of this.globs) if (globMatches(glob, channel)) return true;
    return false;
  }
}

/** Wildcard matching with backtracking to the last star only: O(pattern × text) at worst, never exponential. */
export function globMatches(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === text[t]) {
      p += 1;
      t += 1;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p;
      resume = t;
      p += 1;
    } else if (star !== -1) {
      p = star + 1;
      resume += 1;
      t = resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p += 1;
  return p === pattern.length;
}
