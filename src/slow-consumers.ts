import { CloseCode } from '@switchboard/protocol';
import type { Session } from './session/session.js';

/** How often queued bytes are checked; between checks the transport's hard cap applies. */
const SWEEP_INTERVAL_MS = 1_000;

/**
 * Closes sockets whose unread backlog went over `limitBytes` with 4001 SLOW_CONSUMER, so that
 * the client reconnects and recovers from history instead of lagging ever further. One native
 * call per socket per second, never work per publication.
 */
export class SlowConsumerSweep {
  private timer: NodeJS.Timeout | undefined;
  /** Sockets closed for being too slow, since start. */
  closed = 0;

  constructor(
    private readonly sessions: ReadonlySet<Session>,
    private readonly limitBytes: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  sweep(): void {
    for (const session of this.sessions) {
      if (session.isClosed || session.socket.bufferedAmount() <= this.limitBytes) continue;
      this.closed += 1;
      session.close(CloseCode.SLOW_CONSUMER, 'slow consumer');
    }
  }
}
