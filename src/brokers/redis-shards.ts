/**
 * Which independent Redis shard holds a channel: rendezvous (highest random weight) hashing of
 * the channel against each shard's identity (its URL as configured). Stable: every hub and
 * publisher computes the same shard from the same list, whatever its order; adding a shard moves
 * only the channels the new shard wins (about 1/(N+1) of them: a third when going from 2 to 3),
 * and removing one moves only its own channels. What a moved channel's subscribers see is in
 * docs/operations.md (adding a shard).
 */
export class ShardPlacement {
  private readonly seeds: readonly number[];

  constructor(readonly identities: readonly string[]) {
    if (identities.length === 0) throw new Error('at least one shard');
    this.seeds = identities.map((identity) => fnv1a(identity, FNV_OFFSET));
  }

  /** The index of the shard holding `channel`. */
  of(channel: string): number {
    if (this.seeds.length === 1) return 0;
    let best = 0;
    let bestScore = -1;
    for (const [i, seed] of this.seeds.entries()) {
      const score = mix(fnv1a(channel, seed));
      if (score > bestScore || (score === bestScore && (this.identities[i] ?? '') < (this.identities[best] ?? ''))) {
        best = i;
        bestScore = score;
      }
    }
    return best;
  }
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a over the UTF-16 code units, from `seed`: linear in the name, no allocation. */
function fnv1a(text: string, seed: number): number {
  let hash = seed;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/** A finaliser (murmur3's) so that nearby seeds give independent scores. */
function mix(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
