/**
 * What the cluster knows of users, shared by every hub: their open connections (for
 * `limits.maxConnectionsPerUser`), their server-side subscriptions (kept across reconnects), and
 * revoked tokens. Connection entries expire unless their hub refreshes them, so a hub that dies
 * leaves no count behind for longer than the ttl.
 */
export interface UserStore {
  /** Records `client` as a connection of `user` unless `user` already has `max`; false when refused. */
  admitConnection(user: string, client: string, max: number, ttlMs: number): Promise<boolean>;
  releaseConnection(user: string, client: string): Promise<void>;
  /** Keeps these connections counted for another `ttlMs`. */
  refreshConnections(entries: ReadonlyArray<readonly [user: string, client: string]>, ttlMs: number): Promise<void>;
  addServerSubscription(user: string, channel: string): Promise<void>;
  /** False when `user` had no server-side subscription to `channel`. */
  removeServerSubscription(user: string, channel: string): Promise<boolean>;
  serverSubscriptions(user: string): Promise<readonly string[]>;
  /** Refuses, until `until` (Unix ms), the token `tokenId`, or every token of `user` issued before `issuedBefore`. */
  revoke(target: RevokeTarget, until: number): Promise<void>;
  /** Whether a token was revoked. */
  isRevoked(token: TokenFacts): Promise<boolean>;
  close(): Promise<void>;
}

export interface RevokeTarget {
  readonly user?: string | undefined;
  readonly tokenId?: string | undefined;
  /** For `user`: tokens issued before this time (Unix ms) are revoked. */
  readonly issuedBefore?: number | undefined;
}

/** What a connection's token says of itself. */
export interface TokenFacts {
  readonly user: string | undefined;
  readonly tokenId: string | undefined;
  /** Unix ms of the token's `iat`. */
  readonly issuedAt: number | undefined;
}

/** Server-side subscriptions a user may hold (each is joined at every connect of the user). */
export const MAX_SERVER_SUBSCRIPTIONS = 1_000;

/** The embedded broker's user store: one hub, so plain maps. */
export class MemoryUserStore implements UserStore {
  private readonly connections = new Map<string, Map<string, number>>();
  private readonly subscriptions = new Map<string, Set<string>>();
  private readonly revokedUsers = new Map<string, { issuedBefore: number; until: number }>();
  private readonly revokedTokens = new Map<string, number>();

  async admitConnection(user: string, client: string, max: number, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const clients = this.connections.get(user) ?? new Map<string, number>();
    for (const [id, expiresAt] of clients) if (expiresAt <= now) clients.delete(id);
    if (!clients.has(client) && clients.size >= max) return false;
    clients.set(client, now + ttlMs);
    this.connections.set(user, clients);
    return true;
  }

  async releaseConnection(user: string, client: string): Promise<void> {
    const clients = this.connections.get(user);
    clients?.delete(client);
    if (clients?.size === 0) this.connections.delete(user);
  }

  async refreshConnections(entries: ReadonlyArray<readonly [string, string]>, ttlMs: number): Promise<void> {
    const expiresAt = Date.now() + ttlMs;
    for (const [user, client] of entries) {
      const clients = this.connections.get(user) ?? new Map<string, number>();
      clients.set(client, expiresAt);
      this.connections.set(user, clients);
    }
  }

  async addServerSubscription(user: string, channel: string): Promise<void> {
    const channels = this.subscriptions.get(user) ?? new Set<string>();
    if (channels.size >= MAX_SERVER_SUBSCRIPTIONS && !channels.has(channel))
      throw new RangeError(`user has ${MAX_SERVER_SUBSCRIPTIONS} server-side subscriptions`);
    channels.add(channel);
    this.subscriptions.set(user, channels);
  }

  async removeServerSubscription(user: string, channel: string): Promise<boolean> {
    const channels = this.subscriptions.get(user);
    const removed = channels?.delete(channel) ?? false;
    if (channels?.size === 0) this.subscriptions.delete(user);
    return removed;
  }

  async serverSubscriptions(user: string): Promise<readonly string[]> {
    return [...(this.subscriptions.get(user) ?? [])];
  }

  async revoke(target: RevokeTarget, until: number): Promise<void> {
    // Lapsed revocations go whenever another is made: the maps hold only what still applies.
    const now = Date.now();
    for (const [id, lapse] of this.revokedTokens) if (lapse <= now) this.revokedTokens.delete(id);
    for (const [user, entry] of this.revokedUsers) if (entry.until <= now) this.revokedUsers.delete(user);
    if (target.tokenId !== undefined) this.revokedTokens.set(target.tokenId, until);
    if (target.user !== undefined)
      this.revokedUsers.set(target.user, { issuedBefore: target.issuedBefore ?? Date.now(), until });
  }

  async isRevoked(token: TokenFacts): Promise<boolean> {
    const now = Date.now();
    const tokenUntil = token.tokenId === undefined ? undefined : this.revokedTokens.get(token.tokenId);
    if (tokenUntil !== undefined && tokenUntil > now) return true;
    const user = token.user === undefined ? undefined : this.revokedUsers.get(token.user);
    return user !== undefined && user.until > now && (token.issuedAt ?? 0) < user.issuedBefore;
  }

  async close(): Promise<void> {
    this.connections.clear();
  }
}
