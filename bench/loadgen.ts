/**
 * A load-generator process, driven by bench/run.ts over the IPC channel. It holds up to ~19,900
 * subscriber connections (the per-process descriptor limit), an optional publisher, and counts
 * and times every delivery without allocating per message (lib/ws-client.ts, lib/payload.ts).
 *
 * Requests: `{id, cmd, ...}`; replies: `{id, result}` or `{id, error}`. Commands:
 *   open       open `count` connections, connect and subscribe each to its channels
 *   subscribe  subscribe every open connection to more channels
 *   closeAll   close every connection (close frame, then TCP reset)
 *   phase      zero every counter; reset: zero the measurement window; snapshot: read counters
 *   publish    publish (WebSocket `pub` or ceiling `P` frames, pipelined `POST /api/publish`, or the
 *              Redis publisher helper) at a fixed rate or at the maximum (paced by what is undelivered)
 *   churn      open, subscribe and close connections in a loop, as fast as `concurrency` allows
 *   peek       counters for the progress line
 */
import net from 'node:net';
import type { Publisher as PublisherType } from 'switchboard/publisher';
import { monoMicros, sleep } from './lib/clock.js';
import { Histogram } from './lib/histogram.js';
import {
  ceilingPubTemplate,
  ceilingSubMessage,
  hasPayloadTail,
  pack,
  payloadSeq,
  payloadTime,
  pubTemplate,
  stampPayload,
  unpack,
} from './lib/payload.js';
import { frameHeaderLength, maskedFrame, WsConn, type WsSink } from './lib/ws-client.js';

export type TargetKind = 'hub' | 'ceiling';
export interface Target {
  readonly host: string;
  readonly port: number;
  readonly kind: TargetKind;
}
/** Connection `g` subscribes to `prefix + (mod > 0 ? g % mod : g)`. */
export interface ChannelPattern {
  readonly prefix: string;
  readonly mod: number;
}
export interface PublishChannel {
  readonly name: string;
  /** Subscribers of this channel held by this process (pacing of `max`). */
  readonly fanout: number;
}

// ---- delivery counters (hot path: module-level numbers, no allocation) ----
let delivered = 0;
let windowDelivered = 0;
let windowBytes = 0;
let gaps = 0;
let malformed = 0;
let windowStart = monoMicros();
const latency = new Histogram();
const closeCodes = new Map<number, number>();
const replyErrors = new Map<string, number>();

function countClose(code: number): void {
  closeCodes.set(code, (closeCodes.get(code) ?? 0) + 1);
}
function countError(what: string): void {
  replyErrors.set(what, (replyErrors.get(what) ?? 0) + 1);
}

/** `85 a1 74 a3 6d 73 67`: a 5-entry map whose first key is `t` = `msg` (the hub's push layout). */
function isPush(buf: Buffer, start: number): boolean {
  return (
    buf[start] === 0x85 &&
    buf[start + 1] === 0xa1 &&
    buf[start + 2] === 0x74 &&
    buf[start + 3] === 0xa3 &&
    buf[start + 4] === 0x6d &&
    buf[start + 5] === 0x73 &&
    buf[start + 6] === 0x67
  );
}

function onDelivery(conn: WsConn, buf: Buffer, start: number, end: number, now: number): void {
  if (!hasPayloadTail(buf, start, end)) {
    malformed += 1;
    return;
  }
  latency.record(now - payloadTime(buf, end));
  const seq = payloadSeq(buf, end);
  if (conn.lastSeq >= 0 && seq !== conn.lastSeq + 1) gaps += 1;
  conn.lastSeq = seq;
  delivered += 1;
  windowDelivered += 1;
  windowBytes += end - start;
}

interface Reply {
  ok: boolean;
  what: string;
}

/** A reply (not a push) from the server: hub replies are msgpack `ok`/`err`; the ceiling acks with one byte. */
function readReply(kind: TargetKind, buf: Buffer, start: number, end: number): Reply {
  if (kind === 'ceiling') return { ok: end - start === 1, what: 'ceiling reply' };
  const frame = unpack(buf.subarray(start, end)) as { t?: string; code?: number; msg?: string };
  if (frame.t === 'ok') return { ok: true, what: 'ok' };
  return { ok: false, what: `${frame.t} ${frame.code ?? ''} ${frame.msg ?? ''}`.trim() };
}

// ---- subscriber connections ----

interface ConnState {
  channels: string[];
  phase: 'connecting' | 'subscribing' | 'ready';
  onReady?: (conn: WsConn) => void;
  onFail?: (conn: WsConn, why: string) => void;
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
      conn.send(pack({ t: 'connect', id: 1, name: 'switchboard-bench' }));
    } else {
      this.sendSubs(conn, state);
    }
  }

  sendSubs(conn: WsConn, state: ConnState): void {
    state.phase = 'subscribing';
    conn.pending = state.channels.length;
    if (conn.pending === 0) {
      this.ready(conn, state);
      return;
    }
    let id = 2;
    for (const channel of state.channels) {
      conn.send(this.kind === 'hub' ? pack({ t: 'sub', id: id++, ch: channel }) : ceilingSubMessage(channel));
    }
  }

  ready(conn: WsConn, state: ConnState): void {
    state.phase = 'ready';
    const callback = state.onReady;
    state.onReady = undefined;
    state.onFail = undefined;
    callback?.(conn);
  }

  frame(conn: WsConn, _opcode: number, buf: Buffer, start: number, end: number, now: number): void {
    if (isPush(buf, start)) {
      onDelivery(conn, buf, start, end, now);
      return;
    }
    const state = this.states.get(conn);
    const reply = readReply(this.kind, buf, start, end);
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
    if (state.phase === 'connecting') this.sendSubs(conn, state);
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

interface OpenArgs {
  readonly target: Target;
  readonly count: number;
  readonly base: number;
  readonly patterns: readonly ChannelPattern[];
  readonly sources: readonly string[];
  readonly concurrency?: number;
}

async function open(args: OpenArgs) {
  const started = performance.now();
  const sink = sinks[args.target.kind];
  connKind = args.target.kind;
  closingAll = false;
  let failed = 0;
  const failures = new Map<string, number>();
  await pool(args.count, args.concurrency ?? 256, (i) => {
    const g = args.base + i;
    return new Promise<void>((resolve) => {
      const conn = new WsConn(
        { host: args.target.host, port: args.target.port, localAddress: args.sources[g % args.sources.length] },
        sink,
      );
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
          const key = why.slice(0, 80);
          failures.set(key, (failures.get(key) ?? 0) + 1);
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

async function subscribe(args: { patterns: readonly ChannelPattern[]; concurrency?: number }) {
  const started = performance.now();
  const sink = sinks[connKind];
  let failed = 0;
  const live = conns.filter((c) => c.isOpen);
  await pool(live.length, args.concurrency ?? 512, (i) => {
    const conn = live[i];
    if (!conn) return Promise.resolve();
    const state = sink.states.get(conn);
    if (!state) return Promise.resolve();
    const channels = channelsOf(args.patterns, conn.index);
    state.channels.push(...channels);
    return new Promise<void>((resolve) => {
      state.onReady = () => resolve();
      state.onFail = () => {
        failed += 1;
        resolve();
      };
      // Only the new channels are subscribed; the connection is already connected.
      state.phase = 'subscribing';
      conn.pending = channels.length;
      let id = 100 + state.channels.length;
      for (const channel of channels) {
        conn.send(connKind === 'hub' ? pack({ t: 'sub', id: id++, ch: channel }) : ceilingSubMessage(channel));
      }
    });
  });
  return { subscribed: live.length - failed, failed, ms: Math.round(performance.now() - started) };
}

async function closeAll() {
  closingAll = true;
  const all = conns;
  conns = [];
  for (const conn of all) conn.close();
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && [...Object.values(sinks)].some((s) => s.states.size > 0)) await sleep(20);
  for (const sink of Object.values(sinks)) {
    for (const conn of sink.states.keys()) conn.destroy();
  }
  for (const p of publishers.values()) p.conn.destroy();
  publishers.clear();
  for (const p of httpPublishers.values()) p.socket.destroy();
  httpPublishers.clear();
  return { closed: all.length };
}

// ---- publisher ----

class PublisherSink implements WsSink {
  acks = 0;
  errors = 0;
  ready: Promise<void>;
  private resolveReady: () => void = () => undefined;
  private rejectReady: (error: Error) => void = () => undefined;
  constructor(private readonly kind: TargetKind) {
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
  }
  open(conn: WsConn): void {
    if (this.kind === 'hub') conn.send(pack({ t: 'connect', id: 1, name: 'switchboard-bench-publisher' }));
    else this.resolveReady();
  }
  frame(_conn: WsConn, _opcode: number, buf: Buffer, start: number, end: number): void {
    // A reply to the connect or to a pub: `82/83 a1 74 a2 6f 6b` is an ok, anything else is decoded.
    if (buf[start + 3] === 0xa2 && buf[start + 4] === 0x6f && buf[start + 5] === 0x6b) {
      this.acks += 1;
      this.resolveReady();
      return;
    }
    const reply = readReply(this.kind, buf, start, end);
    if (reply.ok) this.acks += 1;
    else {
      this.errors += 1;
      countError(`publisher: ${reply.what}`);
    }
  }
  closed(_conn: WsConn, code: number, error?: string): void {
    this.rejectReady(new Error(`publisher connection closed: ${code} ${error ?? ''}`));
    countError(`publisher closed ${code}`);
  }
}

interface WsPublisher {
  readonly conn: WsConn;
  readonly sink: PublisherSink;
}
const publishers = new Map<string, WsPublisher>();
const sequences = new Map<string, number>();
let published = 0;
let redisPublisher: PublisherType | undefined;

async function wsPublisher(target: Target): Promise<WsPublisher> {
  const key = `${target.kind}:${target.host}:${target.port}`;
  const existing = publishers.get(key);
  if (existing) return existing;
  const sink = new PublisherSink(target.kind);
  const conn = new WsConn({ host: target.host, port: target.port, noDelay: true }, sink);
  const publisher = { conn, sink };
  publishers.set(key, publisher);
  await sink.ready;
  return publisher;
}

/**
 * A keep-alive HTTP/1.1 connection to `POST /api/publish` with pipelined requests; responses are
 * only counted (`200` or not), which is all the benchmark needs from them.
 */
interface HttpPublisher {
  readonly socket: net.Socket;
  ok: number;
  failed: number;
}
const httpPublishers = new Map<string, HttpPublisher>();

async function httpPublisher(target: Target): Promise<HttpPublisher> {
  const key = `${target.host}:${target.port}`;
  const existing = httpPublishers.get(key);
  if (existing && !existing.socket.destroyed) return existing;
  const socket = net.connect({ host: target.host, port: target.port, noDelay: true });
  const publisher: HttpPublisher = { socket, ok: 0, failed: 0 };
  let tail = '';
  socket.on('data', (chunk: Buffer) => {
    const text = tail + chunk.toString('latin1');
    for (
      let at = text.indexOf('HTTP/1.1 ');
      at >= 0 && at + 12 <= text.length;
      at = text.indexOf('HTTP/1.1 ', at + 9)
    ) {
      if (text.startsWith('200', at + 9)) publisher.ok += 1;
      else {
        publisher.failed += 1;
        countError(`http ${text.slice(at + 9, at + 12)}`);
      }
      tail = '';
    }
    tail = text.slice(-11);
  });
  socket.on('error', (error) => countError(`http publisher: ${error.message}`));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  httpPublishers.set(key, publisher);
  return publisher;
}

interface PublishArgs {
  readonly target: Target;
  readonly via: 'ws' | 'http' | 'redis';
  readonly redisUrl?: string;
  readonly channels: readonly PublishChannel[];
  readonly mode: 'max' | 'rate';
  /** Publications per second (mode `rate`). */
  readonly rate?: number;
  readonly durationMs: number;
  /** Deliveries published but not yet received by this process, at most (mode `max`; also a safety bound for `rate`). */
  readonly inflight: number;
}

interface Template {
  readonly frame: Uint8Array;
  readonly idAt: number;
  readonly fanout: number;
  readonly name: string;
  seq: number;
}

async function publish(args: PublishArgs) {
  const templates: Template[] = args.channels.map((c) => {
    if (args.target.kind === 'hub') {
      const t = pubTemplate(c.name);
      return {
        frame: maskedFrame(t.bytes),
        idAt: frameHeaderLength(t.bytes.length) + t.idAt,
        fanout: c.fanout,
        name: c.name,
        seq: sequences.get(c.name) ?? 0,
      };
    }
    return { frame: maskedFrame(ceilingPubTemplate(c.name)), idAt: -1, fanout: c.fanout, name: c.name, seq: 0 };
  });
  const ws = args.via === 'ws' ? await wsPublisher(args.target) : undefined;
  if (args.via === 'redis' && !redisPublisher) {
    const { Publisher } = await import('switchboard/publisher');
    redisPublisher = new Publisher({ url: args.redisUrl ?? 'redis://127.0.0.1:6379' });
    await redisPublisher.connect();
  }
  let expected = delivered; // deliveries this process should see: starts level with what it saw
  let sent = 0;
  let skipped = 0;
  let next = 0;
  let id = 1;
  let outstanding = 0;
  let redisErrors = 0;
  const startedMs = performance.now();
  const maxBatch = 512;

  const emitWs = (count: number) => {
    if (!ws || count === 0) return;
    let size = 0;
    for (let k = 0, j = next; k < count; k++, j = (j + 1) % templates.length) size += templates[j]?.frame.length ?? 0;
    const out = Buffer.allocUnsafe(size);
    const now = monoMicros();
    let at = 0;
    for (let k = 0; k < count; k++) {
      const t = templates[next] as Template;
      next = (next + 1) % templates.length;
      out.set(t.frame, at);
      at += t.frame.length;
      t.seq += 1;
      stampPayload(out, at, now, t.seq);
      if (t.idAt >= 0) {
        out.writeUInt32BE(id, at - t.frame.length + t.idAt);
        id = id >= 0xfffffffe ? 1 : id + 1;
      }
      expected += t.fanout;
    }
    sent += count;
    ws.conn.sendRaw(out);
  };

  const emitRedis = (count: number) => {
    const publisher = redisPublisher;
    if (!publisher) return;
    const now = monoMicros();
    for (let k = 0; k < count; k++) {
      const t = templates[next] as Template;
      next = (next + 1) % templates.length;
      t.seq += 1;
      const data = `${String(now).padStart(16, '0')}${String(t.seq).padStart(16, '0')}${'x'.repeat(32)}`;
      outstanding += 1;
      publisher.publish(t.name, data).then(
        () => {
          outstanding -= 1;
        },
        () => {
          outstanding -= 1;
          redisErrors += 1;
        },
      );
      expected += t.fanout;
    }
    sent += count;
  };
  const http = args.via === 'http' ? await httpPublisher(args.target) : undefined;
  const emitHttp = (count: number) => {
    if (!http || count === 0) return;
    const now = monoMicros();
    let text = '';
    for (let k = 0; k < count; k++) {
      const t = templates[next] as Template;
      next = (next + 1) % templates.length;
      t.seq += 1;
      const body = `{"channel":"${t.name}","data":"${String(now).padStart(16, '0')}${String(t.seq).padStart(16, '0')}${'x'.repeat(32)}"}`;
      text += `POST /api/publish HTTP/1.1\r\nHost: bench\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      expected += t.fanout;
    }
    sent += count;
    http.socket.write(text, 'latin1');
  };
  const emit = args.via === 'ws' ? emitWs : args.via === 'http' ? emitHttp : emitRedis;

  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - startedMs;
      if (elapsed >= args.durationMs) return resolve();
      const inflight = expected - delivered;
      if (args.mode === 'max') {
        let count = 0;
        let room = args.inflight - inflight;
        for (let j = next; count < maxBatch && room >= (templates[j]?.fanout ?? 1); j = (j + 1) % templates.length) {
          room -= templates[j]?.fanout ?? 1;
          count += 1;
        }
        if (args.via === 'redis') count = Math.min(count, Math.max(0, 2000 - outstanding));
        emit(count);
        setImmediate(tick);
        return;
      }
      const due = Math.floor(((args.rate ?? 0) * elapsed) / 1000) - sent - skipped;
      if (due > 0) {
        // Beyond the safety bound the system is not keeping up: skip rather than queue unboundedly.
        if (inflight > args.inflight) skipped += due;
        else emit(due);
      }
      setTimeout(tick, 1);
    };
    tick();
  });
  for (const t of templates) sequences.set(t.name, t.seq);
  published += sent;
  return {
    published: sent,
    skipped,
    ms: Math.round(performance.now() - startedMs),
    acks: (ws?.sink.acks ?? 0) + (http?.ok ?? 0),
    errors: (ws?.sink.errors ?? 0) + redisErrors + (http?.failed ?? 0),
  };
}

// ---- churn ----

interface ChurnArgs {
  readonly target: Target;
  readonly durationMs: number;
  readonly concurrency: number;
  readonly patterns: readonly ChannelPattern[];
  readonly sources: readonly string[];
  readonly base: number;
}

async function churn(args: ChurnArgs) {
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
      const conn = new WsConn(
        { host: args.target.host, port: args.target.port, localAddress: args.sources[g % args.sources.length] },
        sink,
      );
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
          const key = why.slice(0, 80);
          failures.set(key, (failures.get(key) ?? 0) + 1);
          finish();
        },
      });
    };
    for (let i = 0; i < args.concurrency; i++) start();
  });
  const ms = performance.now() - started;
  return {
    cycles,
    failed,
    failures: Object.fromEntries(failures),
    ms: Math.round(ms),
    hist: handshake.toSparse(),
    histMax: handshake.max,
  };
}

// ---- IPC ----

function snapshot() {
  const now = monoMicros();
  return {
    delivered,
    windowDelivered,
    windowBytes,
    windowMs: (now - windowStart) / 1000,
    gaps,
    malformed,
    published,
    conns: conns.length,
    closes: Object.fromEntries(closeCodes),
    errors: Object.fromEntries(replyErrors),
    hist: latency.toSparse(),
    histMax: latency.max,
  };
}

function resetWindow(): void {
  windowDelivered = 0;
  windowBytes = 0;
  windowStart = monoMicros();
  latency.reset();
}

type Request = { id: number; cmd: string } & Record<string, unknown>;
const commands: Record<string, (req: Request) => unknown> = {
  open: (req) => open(req as unknown as OpenArgs),
  subscribe: (req) => subscribe(req as unknown as { patterns: ChannelPattern[] }),
  closeAll: () => closeAll(),
  publish: (req) => publish(req as unknown as PublishArgs),
  churn: (req) => churn(req as unknown as ChurnArgs),
  phase: () => {
    delivered = 0;
    gaps = 0;
    malformed = 0;
    published = 0;
    closeCodes.clear();
    replyErrors.clear();
    for (const c of conns) c.lastSeq = -1;
    resetWindow();
    return {};
  },
  reset: () => {
    resetWindow();
    return {};
  },
  snapshot: () => snapshot(),
  peek: () => ({ delivered, published, conns: conns.length }),
};

process.on('message', (message: Request) => {
  const command = commands[message.cmd];
  if (!command) {
    process.send?.({ id: message.id, error: `unknown command ${message.cmd}` });
    return;
  }
  Promise.resolve()
    .then(() => command(message))
    .then(
      (result) => process.send?.({ id: message.id, result }),
      (error: unknown) =>
        process.send?.({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
    );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ id: 0, result: { ready: true, pid: process.pid } });
