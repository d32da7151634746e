import { isDeepStrictEqual } from 'node:util';
import type { PresenceEntry } from '@switchboard/protocol';
import type { Logger } from '../log.js';
import type { PresenceChange } from '../streams/presence-push.js';
import type { PresenceSettings } from './config.js';
import type { PresenceStore } from './store.js';

/** Changes waiting for a channel's next push, by connection id. */
interface Pending {
  readonly join: Map<string, PresenceEntry>;
  readonly leave: Map<string, PresenceEntry>;
}

/** Changes one channel may have waiting on one hub; beyond, the oldest joins are dropped and counted. */
const MAX_PENDING = 10_000;

export interface PresenceObserver {
  /** A `pres` push went out (through the broker to every hub), carrying `changes` joins and leaves. */
  pushed(changes: number): void;
  /** Changes dropped because too many were waiting. */
  dropped(changes: number): void;
}

/**
 * This hub's part of presence: it writes its own subscribers of channels with presence to the
 * store, refreshes them every third of the ttl (re-adding any the store lost meanwhile), sweeps
 * entries whose hub stopped refreshing them, and turns what the store reports as changed into
 * join/leave pushes. Pushes are coalesced per channel: at most one per `pushIntervalMs` from
 * this hub, with at most `maxChangesPerPush` changes, a join and a leave of one connection within
 * an interval cancelling out (in either order, when it came back showing the same). So a
 * channel's subscribers get at most (hubs ÷ interval) `pres` pushes per second, however many
 * members churn.
 */
export class PresenceTracker {
  /** Channel → connection id → its entry, for the channels with presence this hub has members of. */
  private readonly local = new Map<string, Map<string, PresenceEntry>>();
  private readonly pending = new Map<string, Pending>();
  private refresher: NodeJS.Timeout | undefined;
  private flusher: NodeJS.Timeout | undefined;
  /** Store calls and pushes in flight, which a stopping hub waits for so its last leaves go out. */
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    readonly store: PresenceStore,
    private readonly settings: PresenceSettings,
    /** Whether `channel`'s namespace pushes joins and leaves. */
    private readonly pushes: (channel: string) => boolean,
    /** Sends a change to every hub with members of the channel (the broker). */
    private readonly publish: (channel: string, change: string) => Promise<void>,
    private readonly observer: PresenceObserver,
    private readonly log: Logger,
  ) {}

  private get ttlMs(): number {
    return this.settings.ttlSeconds * 1000;
  }

  start(): void {
    this.refresher = setInterval(() => void this.refresh(), this.ttlMs / 3);
    this.refresher.unref();
    this.flusher = setInterval(() => this.flush(), this.settings.pushIntervalMs);
    this.flusher.unref();
  }

  /**
   * Stops the timers, removes the entries this hub still holds (they would otherwise stay listed
   * for the ttl, 30 s by default), waits for the store calls in flight, and pushes what they changed.
   */
  async stop(): Promise<void> {
    clearInterval(this.refresher);
    clearInterval(this.flusher);
    for (const [channel, members] of this.local) {
      this.track(
        this.store.remove(channel, [...members.keys()]).then(
          (left) => this.changed(channel, [], left),
          (error: unknown) => this.failed('remove', error),
        ),
      );
    }
    this.local.clear();
    await Promise.allSettled([...this.inflight]);
    this.flush();
    await Promise.allSettled([...this.inflight]);
  }

  /** A connection of this hub joined `channel`. */
  join(channel: string, entry: PresenceEntry): void {
    const members = this.local.get(channel) ?? new Map<string, PresenceEntry>();
    this.local.set(channel, members);
    members.set(entry.c, entry);
    this.track(
      this.store.add(channel, [entry], this.ttlMs).then(
        (joined) => this.changed(channel, joined, []),
        (error: unknown) => this.failed('add', error),
      ),
    );
  }

  /** A connection of this hub left `channel` (unsubscribed or closed). */
  leave(channel: string, client: string): void {
    const members = this.local.get(channel);
    if (!members?.delete(client)) return;
    if (members.size === 0) this.local.delete(channel);
    this.track(
      this.store.remove(channel, [client]).then(
        (left) => this.changed(channel, [], left),
        (error: unknown) => this.failed('remove', error),
      ),
    );
  }

  /** Who is in `channel`, over every hub; the expired entries the read swept become leaves. */
  async list(channel: string, limit: number): Promise<{ entries: PresenceEntry[]; more: boolean }> {
    const { entries, more, expired } = await this.store.list(channel, limit);
    this.changed(channel, [], expired);
    return { entries, more };
  }

  /** How many connections and users are in `channel`, over every hub (after the same sweep). */
  async stats(channel: string): Promise<{ clients: number; users: number }> {
    const { clients, users, expired } = await this.store.stats(channel);
    this.changed(channel, [], expired);
    return { clients, users };
  }

  /** Keeps this hub's entries alive, re-adds any the store lost, and sweeps expired ones. */
  private async refresh(): Promise<void> {
    for (const [channel, members] of this.local) {
      try {
        const joined = await this.store.add(channel, [...members.values()], this.ttlMs);
        const left = this.pushes(channel) ? await this.store.expire(channel) : [];
        this.changed(channel, joined, left);
      } catch (error) {
        this.failed('refresh', error);
      }
    }
  }

  private changed(channel: string, joined: readonly PresenceEntry[], left: readonly PresenceEntry[]): void {
    if ((joined.length === 0 && left.length === 0) || !this.pushes(channel)) return;
    let pending = this.pending.get(channel);
    if (!pending) {
      pending = { join: new Map(), leave: new Map() };
      this.pending.set(channel, pending);
    }
    for (const entry of joined) {
      // Left and came back as it was within one interval: nobody needs to hear of that either. With
      // other info it is pushed as a leave and a join, so that observers see what it shows now.
      const left = pending.leave.get(entry.c);
      if (left !== undefined && isDeepStrictEqual(left, entry)) pending.leave.delete(entry.c);
      else pending.join.set(entry.c, entry);
    }
    for (const entry of left) {
      // Joined and left within one interval: nobody needs to hear of it.
      if (!pending.join.delete(entry.c)) pending.leave.set(entry.c, entry);
    }
    const excess = pending.join.size + pending.leave.size - MAX_PENDING;
    if (excess > 0) {
      let dropped = 0;
      for (const client of pending.join.keys()) {
        if (dropped === excess) break;
        pending.join.delete(client);
        dropped += 1;
      }
      this.observer.dropped(dropped);
    }
  }

  /** One push per channel with changes: up to `maxChangesPerPush`, leaves first; the rest waits. */
  private flush(): void {
    for (const [channel, pending] of this.pending) {
      let room = this.settings.maxChangesPerPush;
      const change: PresenceChange = {};
      const leave = take(pending.leave, room);
      room -= leave.length;
      const join = take(pending.join, room);
      if (leave.length > 0) change.leave = leave;
      if (join.length > 0) change.join = join;
      if (pending.join.size === 0 && pending.leave.size === 0) this.pending.delete(channel);
      if (leave.length + join.length === 0) continue;
      this.observer.pushed(leave.length + join.length);
      this.track(this.publish(channel, JSON.stringify(change)).catch((error: unknown) => this.failed('push', error)));
    }
  }

  private track(work: Promise<void>): void {
    this.inflight.add(work);
    void work.finally(() => this.inflight.delete(work));
  }

  private failed(operation: string, error: unknown): void {
    this.log.warn({ operation, err: (error as Error).message }, 'presence store call failed');
  }
}

/** Removes and returns up to `count` entries, oldest first. */
function take(from: Map<string, PresenceEntry>, count: number): PresenceEntry[] {
  const taken: PresenceEntry[] = [];
  for (const [client, entry] of from) {
    if (taken.length >= count) break;
    from.delete(client);
    taken.push(entry);
  }
  return taken;
}
