import { CloseCode, ErrorCode } from '@switchboard/protocol';
import type { Auth } from '../auth/auth.js';
import { ANONYMOUS, type Principal } from '../auth/principal.js';

/** setTimeout takes at most 2^31−1 ms (about 24.8 days); longer waits are made of several. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Runs `task` at Unix time `at` (ms); the returned function cancels it. */
function at(time: number, task: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = () => {
    const delay = time - Date.now();
    if (delay > MAX_TIMEOUT_MS) timer = setTimeout(arm, MAX_TIMEOUT_MS);
    else timer = setTimeout(task, Math.max(0, delay));
  };
  arm();
  return () => clearTimeout(timer);
}

interface TokenGrant {
  readonly sub: string | undefined;
  readonly until: number | undefined;
  readonly cancel: () => void;
}

/** What Access applies its decisions through: the session it belongs to. */
export interface AccessHolder {
  /** Channels the connection holds (or is joining). */
  readonly channels: { has(channel: string): boolean } & Iterable<string>;
  /** Runs `task` after the subscribes and unsubscribes queued so far. */
  afterSubscriptions(task: () => void): Promise<void>;
  /** Ends a subscription on the hub's own initiative, with an `unsubd` push. */
  revoke(channel: string, code: number, reason: string): void;
  close(code: number, reason: string): void;
}

/**
 * The authorization state of one connection, applying what src/auth decides: its principal, the
 * timer that closes it with 4004 when its token expires without a refresh, and the channels
 * subscription tokens granted it (each ended with an `unsubd` 109 when its token expires, unless
 * the connection's own token grants the channel by then). Timers are made only for credentials
 * that expire, and every one is cancelled when the connection closes.
 */
export class Access {
  principal: Principal = ANONYMOUS;
  private cancelExpiry: (() => void) | undefined;
  /** Made on the first subscription token: most connections never show one. */
  private tokenGrants: Map<string, TokenGrant> | undefined;

  constructor(
    private readonly holder: AccessHolder,
    private readonly auth: Auth,
  ) {}

  /** Acts as `principal` from now on, until its `exp` (plus the clock tolerance). */
  become(principal: Principal): void {
    this.principal = principal;
    this.cancelExpiry?.();
    this.cancelExpiry = undefined;
    if (principal.expiresAt !== undefined) {
      this.cancelExpiry = at(principal.expiresAt + this.auth.graceMs, () =>
        this.holder.close(CloseCode.TOKEN_EXPIRED, 'token expired'),
      );
    }
  }

  /** Records that a valid subscription token for `channel` was shown, valid until `until` (Unix ms). */
  grantByToken(channel: string, until: number | undefined): void {
    this.tokenGrants ??= new Map();
    this.tokenGrants.get(channel)?.cancel();
    const cancel =
      until === undefined
        ? () => undefined
        : at(until + this.auth.graceMs, () => {
            this.tokenGrants?.delete(channel);
            void this.recheck('subscription token expired', ErrorCode.TOKEN_EXPIRED, [channel]);
          });
    this.tokenGrants.set(channel, { sub: this.principal.sub, until, cancel });
  }

  /** Whether a still valid subscription token of this subject granted `channel`. */
  hasTokenGrant(channel: string): boolean {
    const grant = this.tokenGrants?.get(channel);
    return (
      grant !== undefined &&
      grant.sub === this.principal.sub &&
      (grant.until === undefined || Date.now() < grant.until + this.auth.graceMs)
    );
  }

  /**
   * Ends every subscription (of `channels`, or all) that is no longer allowed, with an `unsubd`
   * push carrying `code`. Runs in the session's subscribe/unsubscribe order, so a subscribe in
   * progress is either finished and rechecked, or starts afterwards and is authorized anew.
   */
  recheck(reason: string, code: number = ErrorCode.PERMISSION_DENIED, channels?: readonly string[]): Promise<void> {
    const { holder } = this;
    return holder.afterSubscriptions(() => {
      for (const channel of channels ?? [...holder.channels]) {
        if (!holder.channels.has(channel) || this.hasTokenGrant(channel)) continue;
        if (this.auth.allows(this.principal, channel, 'subscribe')) continue;
        holder.revoke(channel, code, `${reason}: ${channel}`);
      }
    });
  }

  /** Stops every timer (the connection closed). */
  dispose(): void {
    this.cancelExpiry?.();
    for (const grant of this.tokenGrants?.values() ?? []) grant.cancel();
    this.tokenGrants = undefined;
  }
}
