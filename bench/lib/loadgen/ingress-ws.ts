/**
 * Publishing over one client WebSocket: `pub` frames to the hub (the default namespace allows
 * client publishes; replies are counted), or `P`/`T` frames to the ceiling (which does not reply).
 *
 * Two patterns:
 * - deep batches: up to 512 frames in one write, from copied templates. The cheapest way to feed
 *   a server; the hub reads ~50 publications per syscall.
 * - single: one publication per write, at most 16 unacknowledged — a browser or service client
 *   publishing now and then. The hub reads one frame per syscall and answers each.
 */
import { monoMicros } from '../clock.js';
import {
  ceilingPubTemplate,
  clientFrame,
  JSON_ID_MAX,
  JSON_ID_MIN,
  pubTemplate,
  stampPayload,
  writeId,
} from '../payload.js';
import { formatOf, isOk, OFFERED, readReply } from '../wire.js';
import { frameHeaderLength, maskedFrame, OP_BINARY, OP_TEXT, WsConn, type WsSink } from '../ws-client.js';
import { countError } from './counters.js';
import type { Emitter, Rotation } from './emitter.js';
import type { Target } from './types.js';

const MAX_UNACKED_SINGLE = 16;

class PublisherSink implements WsSink {
  acks = 0;
  errors = 0;
  ready: Promise<void>;
  private resolveReady: () => void = () => undefined;
  private rejectReady: (error: Error) => void = () => undefined;
  constructor(private readonly target: Target) {
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
  }
  open(conn: WsConn): void {
    if (this.target.kind === 'ceiling') {
      this.resolveReady();
      return;
    }
    const format = formatOf(conn.wire);
    const hello = clientFrame(format, { t: 'connect', id: 1, name: 'switchboard-bench-publisher' });
    conn.send(hello, format === 'json' ? OP_TEXT : OP_BINARY);
  }
  frame(conn: WsConn, _opcode: number, buf: Buffer, start: number, end: number): void {
    if (isOk(conn.wire, buf, start)) {
      this.acks += 1;
      this.resolveReady();
      return;
    }
    const reply = readReply(conn.wire, buf.subarray(start, end));
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

interface Connection {
  readonly conn: WsConn;
  readonly sink: PublisherSink;
}
const connections = new Map<string, Connection>();

async function connection(target: Target): Promise<Connection> {
  const key = `${target.kind}:${target.host}:${target.port}`;
  const existing = connections.get(key);
  if (existing?.conn.isOpen) return existing;
  const sink = new PublisherSink(target);
  const wire = OFFERED[target.format ?? 'msgpack'];
  const conn = new WsConn({ host: target.host, port: target.port, noDelay: true, wire, tls: target.tls }, sink);
  const made = { conn, sink };
  connections.set(key, made);
  await sink.ready;
  return made;
}

export function closeWsPublishers(): void {
  for (const c of connections.values()) c.conn.destroy();
  connections.clear();
}

interface Template {
  readonly frame: Uint8Array;
  /** Where the id goes in the frame (−1: none), and whether as decimal digits. */
  readonly idAt: number;
  readonly idDigits: boolean;
  readonly dataEndFromEnd: number;
}

function templateFor(target: Target, channel: string): Template {
  const format = target.format ?? 'msgpack';
  const opcode = format === 'json' ? OP_TEXT : OP_BINARY;
  if (target.kind === 'ceiling') {
    // The ceiling reads `P`/`T` frames as binary messages whatever the format of its subscribers.
    return {
      frame: maskedFrame(ceilingPubTemplate(channel, format)),
      idAt: -1,
      idDigits: false,
      dataEndFromEnd: format === 'json' ? 2 : 0,
    };
  }
  const t = pubTemplate(channel, format);
  return {
    frame: maskedFrame(t.bytes, opcode),
    idAt: frameHeaderLength(t.bytes.length) + t.idAt,
    idDigits: t.idDigits,
    dataEndFromEnd: t.dataEndFromEnd,
  };
}

export async function wsEmitter(target: Target, rotation: Rotation, single: boolean): Promise<Emitter> {
  const { conn, sink } = await connection(target);
  const templates = rotation.channels.map((c) => templateFor(target, c.name));
  const acks0 = sink.acks;
  const errors0 = sink.errors;
  let id = 0;
  const nextId = (digits: boolean) => {
    id += 1;
    return digits ? JSON_ID_MIN + (id % (JSON_ID_MAX - JSON_ID_MIN)) : 1 + (id % 0xfffffffe);
  };
  /** Copies the next `count` frames into `out` from `at`, stamped; returns the end. */
  const fill = (out: Buffer, from: number, count: number, now: number): number => {
    let at = from;
    for (let k = 0; k < count; k++) {
      const i = rotation.take();
      const t = templates[i] as Template;
      out.set(t.frame, at);
      at += t.frame.length;
      stampPayload(out, at - t.dataEndFromEnd, now, rotation.seq(i));
      if (t.idAt >= 0) writeId(out, at - t.frame.length + t.idAt, t.idDigits, nextId(t.idDigits));
    }
    return at;
  };
  const sizeOfNext = (count: number) => {
    let size = 0;
    for (let k = 0; k < count; k++) size += templates[rotation.indexAhead(k)]?.frame.length ?? 0;
    return size;
  };
  return {
    get acks() {
      return sink.acks - acks0;
    },
    get errors() {
      return sink.errors - errors0;
    },
    capacity: () =>
      !single || target.kind === 'ceiling'
        ? Number.POSITIVE_INFINITY
        : Math.max(0, MAX_UNACKED_SINGLE - (rotation.sent - (sink.acks - acks0) - (sink.errors - errors0))),
    emit: (count) => {
      if (count <= 0) return;
      const now = monoMicros();
      if (!single) {
        const out = Buffer.allocUnsafe(sizeOfNext(count));
        fill(out, 0, count, now);
        conn.sendRaw(out);
        return;
      }
      for (let k = 0; k < count; k++) {
        const out = Buffer.allocUnsafe(sizeOfNext(1));
        fill(out, 0, 1, now);
        conn.sendRaw(out);
      }
    },
  };
}
