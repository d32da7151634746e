/**
 * Subscriber connections of a load-generator process: open (connect and subscribe each, awaited),
 * subscribe to more channels, churn (open, subscribe, close in a loop), close everything.
 */
import { monoMicros, sleep } from '../clock.js';
import { Histogram } from '../histogram.js';
import { ceilingSubMessage, clientFrame } from '../payload.js';
import { formatOf, OFFERED, readReply } from '../wire.js';
import { OP_BINARY, OP_TEXT, WsConn, type WsSink } from '../ws-client.js';
import { countClose, countError, onFrame } from './counters.js';
import type { ChannelPattern, ChurnArgs, ChurnResult, OpenArgs, OpenResult, Target, TargetKind } from './types.js';

interface ConnState {
  channels: string[];
  phase: 'connecting' | 'subscribing' | 'ready';
  onReady?: (conn: WsConn) => void;
  onFail?: (conn: WsConn, why: string) => void;
}

/** Sends a setup frame in the connection's negotiated format (the ceiling takes binary `S` frames). */
function sendSetup(conn: WsConn, kind: TargetKind, frame: object, channel?: string): void {
  if (kind === 'ceiling' && channel !== undefined) {
    conn.send(ceilingSubMessage(channel));
    return;
  }
  const format = formatOf(conn.wire);
  conn.send(clientFrame(format, frame), format === 'json' ? OP_TEXT : OP_BINARY);
}

class SubscriberSink implements WsSink {
  readonly states = new Map<WsConn, ConnState>();
  constructor(readonly kind: TargetKind) {}

  open(conn: WsConn): void {
    const state = this.states.get(conn);
    if (!state) return;
    if (this.kind === 'hub') {
      state.phase = 'connecting';
      conn.pending = 1;
      sendSetup(conn, 'hub', { t: 'connect', id: 1, name: 'switchboard-bench' });
    } else {
      this.sendSubs(conn, state, state.channels);
    }
  }

  /** Subscribes `conn` to `channels` (replies awaited through `pending`). */
  sendSubs(conn: WsConn, state: ConnState, channels: readonly string[]): void {
    state.phase = 'subscribing';
    conn.pending = channels.length;
    if (conn.pending === 0) {
      this.ready(conn, state);
      return;
    }
    let id = 2 + state.channels.length - channels.length;
    for (const channel of channels) sendSetup(conn, this.kind, { t: 'sub', id: id++, ch: channel }, channel);
  }

  ready(conn: WsConn, state: ConnState): void {
    state.phase = 'ready';
    const callback = state.onReady;
    state.onReady = undefined;
    state.onFail = undefined;
    callback?.(conn);
  }

  frame(conn: WsConn, _opcode: number, buf: Buffer, start: number, end: number, now: number): void {
    if (onFrame(conn, buf, start, end, now)) return;
    const state = this.states.get(conn);
    // The ceiling answers a subscribe with one byte.
    const reply =
      this.kind === 'ceiling'
        ? { ok: end - start === 1, what: 'ceiling reply' }
        : readReply(conn.wire, buf.subarray(start, end));
    if (!state || state.phase === 'ready' || conn.pending <= 0) {
      if (!reply.ok) countError(reply.what);
      return;
    }
    if (!reply.ok) {
      countError(reply.what);
      state.onFail?.(conn, reply.what);
      state.onFail = undefined;
      state.onReady = undefined;
      conn.destroy();
      return;
    }
    conn.pending -= 1;
    if (conn.pending > 0) return;
    if (state.phase === 'connecting') this.sendSubs(conn, state, state.channels);
    else this.ready(conn, state);
  }

  closed(conn: WsConn, code: number, error?: string): void {
    const state = this.states.get(conn);
    this.states.delete(conn);
    if (state?.onFail) {
      state.onFail(conn, error ? `${code} ${error}` : `closed ${code}`);
      return;
    }
    if (state?.phase === 'ready' && !closingAll) countClose(code);
  }
}

const sinks: Record<TargetKind, SubscriberSink> = {
  hub: new SubscriberSink('hub'),
  ceiling: new SubscriberSink('ceiling'),
};
let conns: WsConn[] = [];
let connKind: TargetKind = 'hub';
let closingAll = false;

export function openCount(): number {
  return conns.length;
}

export function restartSequences(): void {
  for (const c of conns) c.lastSeq = -1;
}

function channelsOf(patterns: readonly ChannelPattern[], g: number): string[] {
  return patterns.map((p) => p.prefix + (p.mod > 0 ? g % p.mod : g));
}

/** Runs `count` tasks with at most `concurrency` in flight. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

function connect(target: Target, g: number, sources: readonly string[], sink: SubscriberSink): WsConn {
  const format = target.format ?? 'msgpack';
  return new WsConn(
    {
      host: target.host,
      port: target.port,
      localAddress: sources[g % sources.length],
      wire: OFFERED[format],
      tls: target.tls,
    },
    sink,
  );
}

function tally(failures: Map<string, number>, why: string): void {
  const key = why.slice(0, 80);
  failures.set(key, (failures.get(key) ?? 0) + 1);
}

export async function open(args: OpenArgs): Promise<OpenResult> {
  const started = performance.now();
  const sink = sinks[args.target.kind];
  connKind = args.target.kind;
  closingAll = false;
  let failed = 0;
  const failures = new Map<string, number>();
  await pool(args.count, args.concurrency ?? 256, (i) => {
    const g = args.base + i;
    return new Promise<void>((resolve) => {
      const conn = connect(args.target, g, args.sources, sink);
      conn.index = g;
      sink.states.set(conn, {
        channels: channelsOf(args.patterns, g),
        phase: 'connecting',
        onReady: (c) => {
          conns.push(c);
          resolve();
        },
        onFail: (_c, why) => {
          failed += 1;
          tally(failures, why);
          resolve();
        },
      });
    });
  });
  return {
    opened: args.count - failed,
    failed,
    failures: Object.fromEntries(failures),
    ms: Math.round(performance.now() - started),
  };
}

export async function subscribe(args: { patterns: readonly ChannelPattern[]; concurrency?: number }) {
  const started = performance.now();
  const sink = sinks[connKind];
  let failed = 0;
  const live = conns.filter((c) => c.isOpen);
  await pool(live.length, args.concurrency ?? 512, (i) => {
    const conn = live[i];
    const state = conn && sink.states.get(conn);
    if (!conn || !state) return Promise.resolve();
    const channels = channelsOf(args.patterns, conn.index);
    state.channels.push(...channels);
    return new Promise<void>((resolve) => {
      state.onReady = () => resolve();
      state.onFail = () => {
        failed += 1;
        resolve();
      };
      // Only the new channels are subscribed; the connection is already connected.
      sink.sendSubs(conn, state, channels);
    });
  });
  return { subscribed: live.length - failed, failed, ms: Math.round(performance.now() - started) };
}

/** Closes every subscriber connection (close frame, then TCP reset), waiting up to 5 s for the server's close frames. */
export async function closeSubscribers(): Promise<number> {
  closingAll = true;
  const all = conns;
  conns = [];
  for (const conn of all) conn.close();
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && Object.values(sinks).some((s) => s.states.size > 0)) await sleep(20);
  for (const sink of Object.values(sinks)) {
    for (const conn of sink.states.keys()) conn.destroy();
  }
  return all.length;
}

/** Connect, subscribe, close — in a loop with `concurrency` connections in flight, for `durationMs`. */
export async function churn(args: ChurnArgs): Promise<ChurnResult> {
  const sink = new SubscriberSink(args.target.kind);
  const handshake = new Histogram();
  let cycles = 0;
  let failed = 0;
  let counter = 0;
  const failures = new Map<string, number>();
  const started = performance.now();
  const deadline = started + args.durationMs;
  await new Promise<void>((resolve) => {
    let running = 0;
    const start = () => {
      if (performance.now() >= deadline) {
        if (running === 0) resolve();
        return;
      }
      running += 1;
      const g = args.base + counter++;
      const conn = connect(args.target, g, args.sources, sink);
      conn.startedAt = monoMicros();
      const finish = () => {
        running -= 1;
        start();
      };
      sink.states.set(conn, {
        channels: channelsOf(args.patterns, g),
        phase: 'connecting',
        onReady: (c) => {
          handshake.record(monoMicros() - c.startedAt);
          cycles += 1;
          // Closed by us; the sink forgets it when the server's close frame (or the reset) arrives.
          const state = sink.states.get(c);
          if (state) state.onFail = () => finish();
          c.close();
        },
        onFail: (_c, why) => {
          failed += 1;
          tally(failures, why);
          finish();
        },
      });
    };
    for (let i = 0; i < args.concurrency; i++) start();
  });
  return {
    cycles,
    failed,
    failures: Object.fromEntries(failures),
    ms: Math.round(performance.now() - started),
    hist: handshake.toSparse(),
    histMax: handshake.max,
  };
}
