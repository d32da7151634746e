import type { Logger } from '../log.js';
import type { UserStore } from './user-store.js';

/** How long a connection stays counted for its user unless its hub refreshes it (every third of this). */
export const USER_CONNECTION_TTL_MS = 60_000;

/**
 * This hub's part of `limits.maxConnectionsPerUser`: admits each authenticated connection
 * against the user's count across hubs (src/cluster/user-store.ts), releases it when it closes,
 * and keeps its entry alive while it is open. A hub that dies stops refreshing, so its
 * connections stop counting within the ttl (60 s).
 */
export class UserConnections {
  /** Connection id → user, for the connections this hub counted. */
  private readonly counted = new Map<string, string>();
  private refresher: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: UserStore,
    /** 0: no limit, nothing is counted. */
    private readonly max: number,
    private readonly log: Logger,
  ) {}

  get limited(): boolean {
    return this.max > 0;
  }

  start(): void {
    if (!this.limited) return;
    this.refresher = setInterval(() => void this.refresh(), USER_CONNECTION_TTL_MS / 3);
    this.refresher.unref();
  }

  stop(): void {
    clearInterval(this.refresher);
  }

  /** Counts connection `client` of `user`; false when the user already has the maximum open. */
  async admit(user: string, client: string): Promise<boolean> {
    if (!this.limited) return true;
    const admitted = await this.store.admitConnection(user, client, this.max, USER_CONNECTION_TTL_MS);
    if (admitted) this.counted.set(client, user);
    return admitted;
  }

  /** The connection closed: it no longer counts. */
  release(client: string): void {
    const user = this.counted.get(client);
    if (user === undefined) return;
    this.counted.delete(client);
    this.store.releaseConnection(user, client).catch((error: unknown) => {
      this.log.warn({ err: (error as Error).message }, 'user connection not released; it lapses with its ttl');
    });
  }

  private async refresh(): Promise<void> {
    if (this.counted.size === 0) return;
    const entries = [...this.counted].map(([client, user]) => [user, client] as const);
    await this.store.refreshConnections(entries, USER_CONNECTION_TTL_MS).catch((error: unknown) => {
      this.log.warn({ err: (error as Error).message }, 'user connections not refreshed');
    });
  }
}
