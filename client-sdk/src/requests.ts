import type { ClientFrame, ErrorReply, OkReply } from '@switchboard/protocol';
import { ClientErrorCode, SwitchboardError } from './errors.js';

type WithoutId<F> = F extends unknown ? Omit<F, 'id'> : never;
/** A request frame before it has an id. */
export type RequestBody = WithoutId<ClientFrame>;

/** What the client needs of a protocol result schema (zod's `safeParse`). */
export interface ResultSchema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false };
}

/** A request awaiting its reply; it gets its id when it goes out. */
export interface Outgoing {
  readonly body: RequestBody;
  id: number;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: SwitchboardError) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

const MAX_ID = 0xffffffff;

/**
 * Requests awaiting their reply. Each one settles exactly once: with its reply, its timeout, or
 * the loss of the socket it went out on, whichever comes first; later news is ignored. Ids are
 * given out as requests go out, so that they increase along the wire, from 1.
 */
export class Requests {
  private lastId = 0;
  /** Created while there was no connection to send them on, in order. */
  private readonly unsent = new Set<Outgoing>();
  private readonly sent = new Map<number, Outgoing>();

  constructor(private readonly timeoutMs: number) {}

  /** Starts the request's timeout; the caller sends it (see `issue`) now or once connected. */
  create<T>(body: RequestBody, schema: ResultSchema<T>): { request: Outgoing; result: Promise<T> } {
    let resolve!: (result: T) => void;
    let reject!: (error: SwitchboardError) => void;
    const result = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const request: Outgoing = {
      body,
      id: 0,
      resolve: (value) => {
        const parsed = schema.safeParse(value ?? {});
        if (parsed.success) resolve(parsed.data);
        else reject(new SwitchboardError(ClientErrorCode.BAD_FRAME, `malformed reply to ${body.t}`, false));
      },
      reject,
      timer: setTimeout(() => {
        this.forget(request);
        reject(
          new SwitchboardError(ClientErrorCode.TIMEOUT, `no reply to ${body.t} within ${this.timeoutMs} ms`, true),
        );
      }, this.timeoutMs),
    };
    this.unsent.add(request);
    return { request, result };
  }

  /** Gives the request its id as it goes out, and returns its frame. */
  issue(request: Outgoing): ClientFrame {
    this.unsent.delete(request);
    this.lastId = this.lastId === MAX_ID ? 1 : this.lastId + 1;
    request.id = this.lastId;
    this.sent.set(request.id, request);
    return { ...request.body, id: request.id } as ClientFrame;
  }

  /** Requests made while there was no connection, oldest first. */
  waiting(): Outgoing[] {
    return [...this.unsent];
  }

  settle(reply: OkReply | ErrorReply): void {
    const pending = this.sent.get(reply.id);
    if (!pending) return;
    this.forget(pending);
    if (reply.t === 'ok') pending.resolve(reply.r);
    else pending.reject(new SwitchboardError(reply.code, reply.msg, reply.tmp === true));
  }

  /** Fails one request that could not be sent. */
  refuse(request: Outgoing, error: SwitchboardError): void {
    this.forget(request);
    request.reject(error);
  }

  /** Fails the requests that went out on a socket that is gone; the unsent ones keep waiting. */
  failSent(error: SwitchboardError): void {
    for (const pending of [...this.sent.values()]) {
      this.forget(pending);
      pending.reject(error);
    }
  }

  failAll(error: SwitchboardError): void {
    this.failSent(error);
    for (const pending of [...this.unsent]) {
      this.forget(pending);
      pending.reject(error);
    }
  }

  private forget(pending: Outgoing): void {
    clearTimeout(pending.timer);
    this.unsent.delete(pending);
    this.sent.delete(pending.id);
  }
}
