import { ErrorCode } from '@switchboard/protocol';
import { HubError, limitExceeded } from '../errors.js';
import type { ReplyEnvelope } from './wire.js';

/** The connection a call belongs to: its calls end when it closes. */
export interface CallOwner {
  /** Runs `task` when the connection closes; the returned function forgets it. */
  whenClosed(task: () => void): () => void;
}

/** Why a reply found nobody waiting. */
export type DroppedReply = 'late' | 'gone' | 'unknown' | 'other_hub' | 'invalid';

interface Call {
  readonly owner: CallOwner;
  readonly settle: (envelope: ReplyEnvelope) => void;
  readonly fail: (error: HubError) => void;
  readonly timer: NodeJS.Timeout;
  readonly untie: () => void;
}

/**
 * Ids of calls that ended without their reply, and how, so that a reply arriving later is
 * counted as late or as for a connection that is gone. 4 096 ids of about 12 characters: under
 * 300 KB, and far more than arrive late within a deadline on a healthy hub.
 */
const ENDED_REMEMBERED = 4_096;

/**
 * The calls of this hub waiting for their reply, by correlation id. A call ends exactly once:
 * with its reply, at its deadline (117), or with its connection, whichever comes first. Nothing
 * outlives its connection: the timer and the entry go when it closes, and a reply after that is
 * dropped and counted.
 */
export class PendingCalls {
  private lastId = 0;
  private readonly calls = new Map<string, Call>();
  private readonly ended = new Map<string, 'late' | 'gone'>();
  private readonly perOwner = new WeakMap<CallOwner, number>();

  constructor(
    /** This hub's id: with a counter, correlation ids unique across hubs and restarts. */
    private readonly hub: string,
    private readonly maxPerOwner: number,
    private readonly dropped: (reason: DroppedReply) => void,
  ) {}

  /**
   * A new call of `owner`: its correlation id, and its reply (a ReplyEnvelope), which rejects with
   * 117 after `timeoutMs`, and at once when the owner closes (nobody is there to hear it).
   */
  open(owner: CallOwner, timeoutMs: number): { readonly id: string; readonly reply: Promise<ReplyEnvelope> } {
    const count = this.perOwner.get(owner) ?? 0;
    if (count >= this.maxPerOwner) throw limitExceeded('calls waiting per connection', this.maxPerOwner);
    this.lastId += 1;
    const id = `${this.hub}.${this.lastId.toString(36)}`;
    const reply = new Promise<ReplyEnvelope>((settle, fail) => {
      const timer = setTimeout(() => {
        this.end(id, 'late');
        fail(new HubError(ErrorCode.RPC_TIMEOUT, `no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      // The reply would go nowhere: the handler ends now, and its reply to a closed session is dropped.
      const untie = owner.whenClosed(() => {
        this.end(id, 'gone');
        fail(new HubError(ErrorCode.NOT_AVAILABLE, 'the connection closed'));
      });
      this.calls.set(id, { owner, settle, fail, timer, untie });
    });
    this.perOwner.set(owner, count + 1);
    return { id, reply };
  }

  /** Hands a reply to its call; a reply nobody waits for is dropped and counted. */
  settle(id: string, envelope: ReplyEnvelope): void {
    const call = this.calls.get(id);
    if (!call) {
      this.dropped(this.ended.get(id) ?? 'unknown');
      return;
    }
    this.forget(id, call);
    call.settle(envelope);
  }

  /** Fails a call whose request could not be sent. */
  fail(id: string, error: HubError): void {
    const call = this.calls.get(id);
    if (!call) return;
    this.forget(id, call);
    call.fail(error);
  }

  /** Calls waiting for their reply. */
  get size(): number {
    return this.calls.size;
  }

  private end(id: string, how: 'late' | 'gone'): void {
    const call = this.calls.get(id);
    if (!call) return;
    this.forget(id, call);
    if (this.ended.size >= ENDED_REMEMBERED) {
      const oldest = this.ended.keys().next();
      if (!oldest.done) this.ended.delete(oldest.value);
    }
    this.ended.set(id, how);
  }

  private forget(id: string, call: Call): void {
    this.calls.delete(id);
    clearTimeout(call.timer);
    call.untie();
    const count = (this.perOwner.get(call.owner) ?? 1) - 1;
    if (count > 0) this.perOwner.set(call.owner, count);
    else this.perOwner.delete(call.owner);
  }
}
