import type { PublishResult } from '@switchboard/protocol';

/**
 * Keys a connection published with lately, so that a retried publish is answered, not published
 * again. A retry comes on the same connection when the first attempt was answered "outcome
 * unknown" (115) or 108; across a reconnection the key travels with the record and services drop
 * it (docs/publishing.md).
 *
 * Each key maps to the first attempt's outcome: the target's answer, still pending when the first
 * attempt's wait timed out. A retry waits for that same answer instead of sending again; an
 * attempt the target refused is forgotten, so a retry sends anew.
 *
 * Bounded: the oldest key goes when `capacity` is reached (256 keys of at most 64 characters are
 * about 40 KB per connection that publishes with keys at full rate; an idle connection holds no
 * instance). Held in a WeakMap by session, it is collected with its connection.
 */
export class RecentPublishes {
  private readonly outcomes = new Map<string, Promise<PublishResult>>();

  constructor(private readonly capacity: number) {}

  /** The outcome of the first attempt under `key`, while remembered. */
  get(key: string): Promise<PublishResult> | undefined {
    return this.outcomes.get(key);
  }

  /** Remembers the attempt under `key`; forgotten again if the target refuses it. */
  remember(key: string, outcome: Promise<PublishResult>): void {
    if (this.outcomes.size >= this.capacity && !this.outcomes.has(key)) {
      const oldest = this.outcomes.keys().next();
      if (!oldest.done) this.outcomes.delete(oldest.value);
    }
    this.outcomes.set(key, outcome);
    outcome.catch(() => {
      if (this.outcomes.get(key) === outcome) this.outcomes.delete(key);
    });
  }

  get size(): number {
    return this.outcomes.size;
  }
}

const byConnection = new WeakMap<object, RecentPublishes>();

/** Keys remembered per connection (made on its first keyed publish). */
export const RECENT_KEYS_PER_CONNECTION = 256;

/** The connection's recent keys. */
export function recentPublishesOf(connection: object): RecentPublishes {
  let recent = byConnection.get(connection);
  if (!recent) {
    recent = new RecentPublishes(RECENT_KEYS_PER_CONNECTION);
    byConnection.set(connection, recent);
  }
  return recent;
}
