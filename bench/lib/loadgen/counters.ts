/**
 * What a load-generator process counts: every delivery (latency, order, bytes), replies that
 * were errors, close codes. The hot path (onFrame) allocates nothing: it updates numbers on one
 * object and reads the payload in place through wire.ts.
 */
import { monoMicros } from '../clock.js';
import { Histogram } from '../histogram.js';
import { MALFORMED, NOT_PUSH, type PushFields, readPush } from '../wire.js';
import type { WsConn } from '../ws-client.js';
import { serverHeaderLength } from '../ws-client.js';

export const stats = {
  /** Deliveries since the last `phase`; in a publisher-only process, what the subscribers' process reported. */
  delivered: 0,
  windowDelivered: 0,
  /** WebSocket payload bytes, and whole frames (header + payload) as received, in the window. */
  windowBytes: 0,
  windowFrameBytes: 0,
  gaps: 0,
  malformed: 0,
  published: 0,
  windowStart: monoMicros(),
};
const latency = new Histogram();
const closeCodes = new Map<number, number>();
const replyErrors = new Map<string, number>();
const fields: PushFields = { time: 0, seq: 0 };

export function countClose(code: number): void {
  closeCodes.set(code, (closeCodes.get(code) ?? 0) + 1);
}

export function countError(what: string): void {
  replyErrors.set(what, (replyErrors.get(what) ?? 0) + 1);
}

/** Counts the frame if it is a push; returns false for anything else (a reply). */
export function onFrame(conn: WsConn, buf: Buffer, start: number, end: number, now: number): boolean {
  const kind = readPush(conn.wire, buf, start, end, fields);
  if (kind === NOT_PUSH) return false;
  if (kind === MALFORMED) {
    stats.malformed += 1;
    return true;
  }
  latency.record(now - fields.time);
  if (conn.lastSeq >= 0 && fields.seq !== conn.lastSeq + 1) stats.gaps += 1;
  conn.lastSeq = fields.seq;
  stats.delivered += 1;
  stats.windowDelivered += 1;
  stats.windowBytes += end - start;
  stats.windowFrameBytes += end - start + serverHeaderLength(end - start);
  return true;
}

export function snapshot(conns: number) {
  const now = monoMicros();
  return {
    delivered: stats.delivered,
    windowDelivered: stats.windowDelivered,
    windowBytes: stats.windowBytes,
    windowFrameBytes: stats.windowFrameBytes,
    windowMs: (now - stats.windowStart) / 1000,
    gaps: stats.gaps,
    malformed: stats.malformed,
    published: stats.published,
    conns,
    closes: Object.fromEntries(closeCodes),
    errors: Object.fromEntries(replyErrors),
    hist: latency.toSparse(),
    histMax: latency.max,
  };
}

export function resetWindow(): void {
  stats.windowDelivered = 0;
  stats.windowBytes = 0;
  stats.windowFrameBytes = 0;
  stats.windowStart = monoMicros();
  latency.reset();
}

export function resetAll(): void {
  stats.delivered = 0;
  stats.gaps = 0;
  stats.malformed = 0;
  stats.published = 0;
  closeCodes.clear();
  replyErrors.clear();
  resetWindow();
}
