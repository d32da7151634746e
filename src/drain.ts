import { setTimeout as wait } from 'node:timers/promises';
import type { Logger } from './log.js';
import type { Session } from './session/session.js';

/** Drain pushes go out in ticks this far apart, each to its share of the sessions. */
const PUSH_TICK_MS = 50;
/** How often the drain looks whether every client left. */
const POLL_MS = 50;

export interface DrainSettings {
  /** Not ready but serving, before any client is moved (`shutdownDelaySeconds`). */
  readonly delayMs: number;
  /** Over which clients are moved; those left at its end are closed by the node (`shutdownGraceSeconds`). */
  readonly graceMs: number;
}

/**
 * How a stopping hub hands its clients to the other hubs without a pause in their deliveries
 * (make-before-break). The node has already turned not ready (`/readyz` 503) and refuses new
 * WebSockets with 503; then:
 * 1. for `delayMs` it keeps serving its connections and HTTP publishes (answered with
 *    `Connection: close`, so that keep-alive connections move too) while the balancer notices
 *    `/readyz` and stops routing here — never less, even with no client left, since HTTP
 *    publishes may still arrive;
 * 2. it sends each client a `drain` push, spread evenly over the first half of `graceMs` so the
 *    other hubs see a steady trickle of reconnects; the SDK opens its next connection through the
 *    balancer, resubscribes every channel from its position there, and leaves this hub only once
 *    the new connection delivers (its duplicates are dropped by position);
 * 3. it waits until the last client left, or `graceMs` ended.
 * Measured before: clients went without messages for p50 1.2 s / p99 2.7 s after SIGTERM (the
 * SDK closed first and waited the push's delay), against 0.36 / 0.71 s after kill -9.
 * `hurry` (a second signal) cuts every wait short.
 */
export class Drain {
  private readonly hurried = new AbortController();

  constructor(
    private readonly sessions: ReadonlySet<Session>,
    private readonly settings: DrainSettings,
    private readonly log: Logger,
  ) {}

  async run(): Promise<void> {
    const { delayMs, graceMs } = this.settings;
    this.log.info({ sessions: this.sessions.size, delayMs, graceMs }, 'draining: not ready, serving until moved');
    await this.pause(delayMs);
    if (graceMs === 0 || this.sessions.size === 0) return;
    const deadline = Date.now() + graceMs;
    await this.push(Math.floor(graceMs / 2));
    while (this.sessions.size > 0 && Date.now() < deadline && !this.hurried.signal.aborted) await this.pause(POLL_MS);
    this.log.info({ left: this.sessions.size }, 'drained');
  }

  /** Ends the waits now: the node closes whoever is left. */
  hurry(): void {
    this.hurried.abort();
  }

  /** Sends every session its drain push, spread evenly over `spreadMs`; a session gone meanwhile is skipped. */
  private async push(spreadMs: number): Promise<void> {
    const queue = [...this.sessions];
    const ticks = Math.max(1, Math.ceil(spreadMs / PUSH_TICK_MS));
    const perTick = Math.ceil(queue.length / ticks);
    for (let next = 0; next < queue.length; next += perTick) {
      if (next > 0) await this.pause(PUSH_TICK_MS);
      for (const session of queue.slice(next, next + perTick)) {
        // The hub spreads the pushes itself; `after` stays 0 so that clients move as soon as they hear it.
        if (!session.isClosed) session.send({ t: 'drain', after: 0 });
      }
    }
  }

  private async pause(ms: number): Promise<void> {
    if (this.hurried.signal.aborted || ms <= 0) return;
    await wait(ms, undefined, { signal: this.hurried.signal }).catch(() => undefined);
  }
}
