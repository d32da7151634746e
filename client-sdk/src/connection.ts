import type { ConnectResult } from '@switchboard/protocol';
import { ClientErrorCode, SwitchboardError } from './errors.js';
import type { Link } from './link.js';
import type { Outgoing, Requests } from './requests.js';
import { Upkeep } from './upkeep.js';

/** What a connection needs from its Client to keep itself alive. */
export interface ConnectionHooks {
  /** The token function, when the Client has one: credentials that expire are renewed with it. */
  readonly token: (() => string | Promise<string>) | undefined;
  /** Whether the Client still uses this connection (a refresh for one it left is pointless). */
  inUse(): boolean;
  /** A ping went unanswered. */
  timedOut(reason: string): void;
  error(error: SwitchboardError): void;
}

/**
 * One link of the Client and what goes out on it: requests get their ids as they go out and fail
 * when the link closes; once connected, the link keeps itself alive (a ping after silence, a token
 * refresh before expiry, upkeep.ts). While a hub drains, the Client has two (handover.ts).
 */
export class Connection {
  /** The hub's connect reply, once the handshake succeeded. */
  result: ConnectResult | undefined;
  /** Its hub asked it to drain, possibly while it was still the next link: hand over once it is in use. */
  drained = false;
  private readonly upkeep = new Upkeep();

  constructor(
    readonly link: Link,
    private readonly requests: Requests,
  ) {}

  /**
   * Sends a request. One the link cannot send fails a moment later, once the caller has noted its
   * id (a channel ignores the failure of a `sub` it does not know to be its own).
   */
  send(request: Outgoing): { id: number } {
    const frame = this.requests.issue(request, this.link);
    const refused = this.link.send(frame);
    if (refused) queueMicrotask(() => this.requests.refuse(request, refused));
    return frame;
  }

  /** Something arrived. */
  heard(): void {
    this.upkeep.heard();
  }

  /** The handshake succeeded: the link learns the hub's frame limit and starts its upkeep. */
  start(result: ConnectResult, hooks: ConnectionHooks): void {
    this.result = result;
    this.link.limit(result.maxFrame);
    this.upkeep.start(result, {
      ping: () => {
        const ping = this.requests.create(
          { t: 'ping' },
          {
            ok: () => {},
            fail: (error) => error.code === ClientErrorCode.TIMEOUT && hooks.timedOut('no reply to ping'),
          },
        );
        this.send(ping);
      },
      token: hooks.token,
      refresh: (token, next) => {
        if (!hooks.inUse()) return;
        const refresh = this.requests.create(
          { t: 'refresh', token },
          { ok: (refreshed) => next(refreshed.exp), fail: (error) => hooks.error(error) },
        );
        this.send(refresh);
      },
      error: (error) => hooks.error(error),
    });
  }

  /** Closes the link: its upkeep stops and what went out on it fails. */
  close(code: number, reason: string): void {
    this.upkeep.stop();
    this.link.close(code, reason);
    this.requests.failSent(
      new SwitchboardError(ClientErrorCode.DISCONNECTED, 'the connection was lost before the reply', true),
      this.link,
    );
  }
}
