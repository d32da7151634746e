/**
 * Publishing over keep-alive HTTP/1.1 connections (TLS when the target has it): `POST /api/publish`
 * with one publication per request, or `POST /api/batch` with many. Responses are split by their
 * Content-Length (the hub always sends one) and counted: a 200, and in a batch each result that is
 * not an `{"error": …}`.
 *
 * Three patterns:
 * - pipelined: one connection, every publication due written at once, responses read as they come.
 * - single: `connections` connections (default 4), each with one request at a time, the next
 *   written after the response — a service posting each event as it happens, with a few workers.
 * - batch: `connections` connections (default 8), each with one `POST /api/batch` at a time of up
 *   to 512 publications (the publish loop's turn), the rest staying due — a service flushing what
 *   accumulated while its previous request was out.
 */
import net from 'node:net';
import tls from 'node:tls';
import { monoMicros } from '../clock.js';
import { payloadText } from '../payload.js';
import { countError } from './counters.js';
import type { Emitter, Rotation } from './emitter.js';
import type { Target } from './types.js';

export type HttpPattern = 'pipelined' | 'single' | 'batch';

const DEFAULT_CONNECTIONS: Record<HttpPattern, number> = { pipelined: 1, single: 4, batch: 8 };
/** Publications per batch request at most; the API takes up to 1,000, the publish loop hands out 512 a turn. */
const MAX_PER_BATCH = 512;
const ERROR_ITEM = Buffer.from('{"error"');

/**
 * Splits a connection's bytes into responses. Only an unfinished response is kept between reads,
 * so a read costs time linear in its length.
 */
class ResponseReader {
  private carry: Buffer = Buffer.alloc(0);
  constructor(private readonly onResponse: (status: number, body: Buffer) => void) {}

  push(chunk: Buffer): void {
    const buf = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    let at = 0;
    for (;;) {
      const headEnd = buf.indexOf('\r\n\r\n', at, 'latin1');
      if (headEnd < 0) break;
      const head = buf.toString('latin1', at, headEnd);
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      const bodyStart = headEnd + 4;
      if (buf.length < bodyStart + length) break;
      this.onResponse(Number(head.slice(9, 12)), buf.subarray(bodyStart, bodyStart + length));
      at = bodyStart + length;
    }
    this.carry = Buffer.from(buf.subarray(at));
  }
}

interface Requester {
  readonly socket: net.Socket;
  /** Publications carried by each request written and not yet answered, oldest first from `head`. */
  readonly pending: number[];
  head: number;
  ok: number;
  failed: number;
  /** The publish loop's wake-up (Emitter.onFree), called after each response. */
  wake?: () => void;
}

const requesters = new Set<Requester>();

const waiting = (r: Requester) => r.pending.length - r.head;

function settle(r: Requester, status: number, body: Buffer): void {
  settleCounts(r, status, body);
  r.wake?.();
}

function settleCounts(r: Requester, status: number, body: Buffer): void {
  const items = r.pending[r.head] ?? 1;
  r.head += 1;
  if (r.head > 1024 && r.head * 2 > r.pending.length) {
    r.pending.splice(0, r.head);
    r.head = 0;
  }
  if (status !== 200) {
    r.failed += items;
    countError(`http ${status}: ${body.toString('utf8', 0, Math.min(body.length, 60))}`);
    return;
  }
  let errors = 0;
  if (items > 1) for (let at = body.indexOf(ERROR_ITEM); at >= 0; at = body.indexOf(ERROR_ITEM, at + 1)) errors += 1;
  if (errors > 0) countError('http batch item error');
  r.ok += items - errors;
  r.failed += errors;
}

async function requester(target: Target): Promise<Requester> {
  const where = { host: target.host, port: target.port };
  const socket = target.tls
    ? tls.connect({ ...where, rejectUnauthorized: false })
    : net.connect({ ...where, noDelay: true });
  socket.setNoDelay(true);
  const r: Requester = { socket, pending: [], head: 0, ok: 0, failed: 0 };
  const reader = new ResponseReader((status, body) => settle(r, status, body));
  socket.on('data', (chunk: Buffer) => reader.push(chunk));
  socket.on('error', (error) => countError(`http publisher: ${error.message}`));
  await new Promise<void>((resolve, reject) => {
    socket.once(target.tls ? 'secureConnect' : 'connect', resolve);
    socket.once('error', reject);
  });
  requesters.add(r);
  return r;
}

export function closeHttpPublishers(): void {
  for (const r of requesters) r.socket.destroy();
  requesters.clear();
}

const post = (path: string, body: string) =>
  `POST ${path} HTTP/1.1\r\nHost: bench\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

function item(rotation: Rotation, now: number): string {
  const i = rotation.take();
  return `{"channel":"${rotation.name(i)}","data":"${payloadText(now, rotation.seq(i))}"}`;
}

function batchRequest(rotation: Rotation, now: number, count: number): string {
  const items: string[] = [];
  for (let k = 0; k < count; k++) items.push(item(rotation, now));
  return post('/api/batch', `{"publications":[${items.join(',')}]}`);
}

export async function httpEmitter(
  target: Target,
  rotation: Rotation,
  pattern: HttpPattern,
  connections?: number,
): Promise<Emitter> {
  const size = Math.max(1, Math.min(256, connections ?? DEFAULT_CONNECTIONS[pattern]));
  const pool = await Promise.all(Array.from({ length: size }, () => requester(target)));
  const sum = (f: (r: Requester) => number) => pool.reduce((a, r) => a + f(r), 0);
  const ok0 = sum((r) => r.ok);
  const failed0 = sum((r) => r.failed);
  const idle = () => pool.filter((r) => waiting(r) === 0).length;
  return {
    get acks() {
      return sum((r) => r.ok) - ok0;
    },
    get errors() {
      return sum((r) => r.failed) - failed0;
    },
    onFree: (wake) => {
      for (const r of pool) r.wake = wake;
    },
    capacity: () =>
      pattern === 'pipelined' ? Number.POSITIVE_INFINITY : idle() * (pattern === 'batch' ? MAX_PER_BATCH : 1),
    emit: (count) => {
      if (count <= 0) return;
      const now = monoMicros();
      if (pattern === 'pipelined') {
        const [r] = pool as [Requester];
        let text = '';
        for (let k = 0; k < count; k++) text += post('/api/publish', item(rotation, now));
        for (let k = 0; k < count; k++) r.pending.push(1);
        r.socket.write(text, 'latin1');
        return;
      }
      // A batch takes everything due (up to 512), so at a fixed rate each request carries what
      // accumulated since the last turn of the loop (~1 ms), as a service flushing its queue does.
      let left = count;
      for (const r of pool) {
        if (left === 0) break;
        if (waiting(r) > 0) continue;
        const n = pattern === 'batch' ? Math.min(MAX_PER_BATCH, left) : 1;
        r.pending.push(n);
        r.socket.write(
          pattern === 'batch' ? batchRequest(rotation, now, n) : post('/api/publish', item(rotation, now)),
        );
        left -= n;
      }
    },
  };
}
