import type { Redis } from 'ioredis';

export interface RedisWatchEvents {
  /** A connection did not answer its PING within the command timeout. */
  stalled(): void;
  /** Every connection answered again. */
  answered(): void;
}

/**
 * Notices a Redis that stopped answering while its connections stay open: paused (SIGSTOP, a VM
 * frozen), swapping, or a failover behind a proxy that keeps the TCP connection. Nothing shows on
 * the socket, so without this the hub stayed ready and every command waited for its timeout
 * (measured before command timeouts: /readyz 200 through a 5 s pause, publishes held 5 s).
 *
 * Every `intervalMs` each open connection is sent a PING, which fails after the connections'
 * command timeout; one that fails makes the watch report `stalled`, and the first round in which
 * all answer reports `answered`. Connections that are not open are left to their own
 * reconnection events. One round at a time, so a stall costs one PING per connection in flight.
 */
export class RedisWatch {
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  private stalled = false;

  constructor(
    /** The connections to watch now (a cluster's nodes change with failovers). */
    private readonly connections: () => readonly Redis[],
    private readonly intervalMs: number,
    private readonly events: RedisWatchEvents,
  ) {}

  /** Whether the last round found a connection that did not answer. */
  get isStalled(): boolean {
    return this.stalled;
  }

  start(): void {
    this.timer = setInterval(() => void this.probe(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A command failed on its timeout: no need to wait for the next round to say so. */
  timedOut(): void {
    this.report(false);
  }

  /** `command`, telling the watch at once when it timed out, rather than at its next round. */
  guard<T>(command: Promise<T>): Promise<T> {
    return command.catch((error: unknown) => {
      if (isCommandTimeout(error)) this.timedOut();
      throw error;
    });
  }

  private async probe(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      const open = this.connections().filter((connection) => connection.status === 'ready');
      if (open.length === 0) return;
      const answers = await Promise.all(
        open.map((connection) =>
          connection.ping().then(
            () => true,
            () => false,
          ),
        ),
      );
      if (this.timer) this.report(answers.every(Boolean));
    } finally {
      this.probing = false;
    }
  }

  private report(answered: boolean): void {
    if (answered === !this.stalled) return;
    this.stalled = !answered;
    if (answered) this.events.answered();
    else this.events.stalled();
  }
}

/** Whether `error` is ioredis' "Command timed out", as opposed to a refusal or a lost connection. */
export function isCommandTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === 'Command timed out';
}
