import type { PresenceEntry } from '@switchboard/protocol';

/**
 * Who is subscribed to a channel with presence, shared by every hub. Each hub writes its own
 * subscribers and refreshes them; an entry its hub stopped refreshing (the hub died) expires
 * after the ttl. Every change is reported to exactly one caller — the one whose write or sweep
 * made it — so join and leave pushes, derived from these reports, are neither lost nor doubled
 * between hubs.
 */
export interface PresenceStore {
  /** Adds (or keeps) entries for `ttlMs`; returns those that were not there (joins). */
  add(channel: string, entries: readonly PresenceEntry[], ttlMs: number): Promise<PresenceEntry[]>;
  /** Removes entries by connection id; returns those that were there (leaves). */
  remove(channel: string, clients: readonly string[]): Promise<PresenceEntry[]>;
  /** Removes entries whose ttl passed; returns them (leaves of a hub that went away). */
  expire(channel: string): Promise<PresenceEntry[]>;
  /**
   * The live entries, at most `limit`; `more` when there were others. Entries found expired are
   * removed first and returned as `expired` (leaves the caller reports).
   */
  list(channel: string, limit: number): Promise<PresenceList>;
  /** Live connections and distinct users (anonymous connections count as no user), after the same sweep. */
  stats(channel: string): Promise<PresenceStats>;
  close(): Promise<void>;
}

export interface PresenceList {
  readonly entries: PresenceEntry[];
  readonly more: boolean;
  readonly expired: PresenceEntry[];
}

export interface PresenceStats {
  readonly clients: number;
  readonly users: number;
  readonly expired: PresenceEntry[];
}

interface Held {
  readonly entry: PresenceEntry;
  expiresAt: number;
}

/** The embedded broker's presence: one hub, maps in this process. */
export class MemoryPresenceStore implements PresenceStore {
  private readonly channels = new Map<string, Map<string, Held>>();

  async add(channel: string, entries: readonly PresenceEntry[], ttlMs: number): Promise<PresenceEntry[]> {
    const held = this.channels.get(channel) ?? new Map<string, Held>();
    this.channels.set(channel, held);
    const expiresAt = Date.now() + ttlMs;
    const joined: PresenceEntry[] = [];
    for (const entry of entries) {
      const existing = held.get(entry.c);
      if (existing) existing.expiresAt = expiresAt;
      else {
        held.set(entry.c, { entry, expiresAt });
        joined.push(entry);
      }
    }
    return joined;
  }

  async remove(channel: string, clients: readonly string[]): Promise<PresenceEntry[]> {
    const held = this.channels.get(channel);
    if (!held) return [];
    const left: PresenceEntry[] = [];
    for (const client of clients) {
      const existing = held.get(client);
      if (existing && held.delete(client)) left.push(existing.entry);
    }
    if (held.size === 0) this.channels.delete(channel);
    return left;
  }

  async expire(channel: string): Promise<PresenceEntry[]> {
    const held = this.channels.get(channel);
    if (!held) return [];
    const now = Date.now();
    const left: PresenceEntry[] = [];
    for (const [client, { entry, expiresAt }] of held) {
      if (expiresAt > now) continue;
      held.delete(client);
      left.push(entry);
    }
    if (held.size === 0) this.channels.delete(channel);
    return left;
  }

  async list(channel: string, limit: number): Promise<PresenceList> {
    const expired = await this.expire(channel);
    const entries: PresenceEntry[] = [];
    for (const { entry } of this.channels.get(channel)?.values() ?? []) {
      if (entries.length === limit) return { entries, more: true, expired };
      entries.push(entry);
    }
    return { entries, more: false, expired };
  }

  async stats(channel: string): Promise<PresenceStats> {
    const expired = await this.expire(channel);
    const held = this.channels.get(channel);
    const users = new Set<string>();
    for (const { entry } of held?.values() ?? []) if (entry.u !== undefined) users.add(entry.u);
    return { clients: held?.size ?? 0, users: users.size, expired };
  }

  async close(): Promise<void> {
    this.channels.clear();
  }
}
