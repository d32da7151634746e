import type { ConnectResult } from '@switchboard/protocol';
import { ClientErrorCode, messageOf, SwitchboardError } from './errors.js';

export interface UpkeepHooks {
  /** Sends a `ping`; the Client drops the link when its reply does not come in time. */
  ping(): void;
  /** The token function, when the Client has one: credentials that expire are renewed with it. */
  readonly token: (() => string | Promise<string>) | undefined;
  /** Sends `refresh` with `token`; `next` is called with the new expiry from its reply. */
  refresh(token: string, next: (exp: number | undefined) => void): void;
  error(error: SwitchboardError): void;
}

/**
 * What keeps one connection alive once it is made: a ping after `ping` seconds without inbound
 * traffic, and a token refresh well before the credentials expire at `exp`.
 */
export class Upkeep {
  private lastInbound = 0;
  private liveness: ReturnType<typeof setTimeout> | undefined;
  private refreshing: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  start(result: ConnectResult, hooks: UpkeepHooks): void {
    this.watch(result.ping * 1000, hooks);
    this.scheduleRefresh(result.exp, hooks);
  }

  /** Something arrived. */
  heard(): void {
    this.lastInbound = Date.now();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.liveness);
    clearTimeout(this.refreshing);
  }

  /**
   * A connection silently lost (by an L4 balancer, say) shows no error, only silence, so an
   * unanswered ping is what reveals it.
   */
  private watch(pingMs: number, hooks: UpkeepHooks): void {
    this.lastInbound = Date.now();
    const check = () => {
      const idle = Date.now() - this.lastInbound;
      if (idle < pingMs) {
        this.liveness = setTimeout(check, pingMs - idle);
        return;
      }
      hooks.ping();
      this.liveness = setTimeout(check, pingMs);
    };
    this.liveness = setTimeout(check, pingMs);
  }

  /**
   * Asks the token function for a fresh token a fifth of the remaining time (at most a minute)
   * before `exp`, so the hub does not close the connection with 4004; each reply names the next.
   */
  private scheduleRefresh(exp: number | undefined, hooks: UpkeepHooks): void {
    const tokenOf = hooks.token;
    if (exp === undefined || tokenOf === undefined || this.stopped) return;
    const remaining = exp - Date.now();
    this.refreshing = setTimeout(
      async () => {
        let token: string;
        try {
          token = await tokenOf();
        } catch (error) {
          const message = `could not refresh the token: ${messageOf(error)}`;
          if (!this.stopped) hooks.error(new SwitchboardError(ClientErrorCode.TOKEN, message, true));
          return;
        }
        if (!this.stopped) hooks.refresh(token, (next) => this.scheduleRefresh(next, hooks));
      },
      Math.max(0, remaining - Math.min(60_000, remaining / 5)),
    );
  }
}
