/**
 * The live progress line: elapsed time, the current step, open connections and the delivery
 * rate summed over the load generators. Rewritten in place on a terminal; one line every ten
 * seconds otherwise (CI logs).
 */
import type { LoadGen } from './procs.js';

interface Peek {
  delivered: number;
  published: number;
  conns: number;
}

export class Progress {
  private step = 'starting';
  private loadgens: LoadGen[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastDelivered = 0;
  private lastAt = performance.now();
  private lastPrinted = 0;
  private readonly started = performance.now();
  private readonly tty = Boolean(process.stdout.isTTY);

  start(): void {
    this.timer = setInterval(() => void this.tick(), 500);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.tty) process.stdout.write('\r\x1b[2K');
  }

  watch(loadgens: LoadGen[]): void {
    this.loadgens = loadgens;
    this.lastDelivered = 0;
  }

  set(step: string): void {
    this.step = step;
    if (!this.tty) this.print(`${this.elapsed()} ${step}`);
  }

  /** A line that stays (a finished scenario's headline). */
  log(line: string): void {
    if (this.tty) process.stdout.write('\r\x1b[2K');
    process.stdout.write(`${line}\n`);
  }

  private elapsed(): string {
    const s = Math.floor((performance.now() - this.started) / 1000);
    return `[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}]`;
  }

  private async tick(): Promise<void> {
    let delivered = 0;
    let conns = 0;
    for (const lg of this.loadgens) {
      const peek = await lg.call<Peek>('peek').catch(() => undefined);
      if (!peek) continue;
      delivered += peek.delivered;
      conns += peek.conns;
    }
    const now = performance.now();
    const rate = delivered >= this.lastDelivered ? ((delivered - this.lastDelivered) * 1000) / (now - this.lastAt) : 0;
    this.lastDelivered = delivered;
    this.lastAt = now;
    const line = `${this.elapsed()} ${this.step} | conns ${conns.toLocaleString('en-US')} | ${fmtRate(rate)} deliveries/s`;
    if (this.tty) process.stdout.write(`\r\x1b[2K${line.slice(0, (process.stdout.columns ?? 120) - 1)}`);
    else if (now - this.lastPrinted > 10_000) this.print(line);
  }

  private print(line: string): void {
    this.lastPrinted = performance.now();
    process.stdout.write(`${line}\n`);
  }
}

export function fmtRate(n: number): string {
  if (!Number.isFinite(n)) return '—';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(0);
}
