/**
 * What the load generator knows of the hub's wire format, in one place: the subprotocol names it
 * offers, how it recognises a publication push and reads the benchmark payload out of it, and how
 * it tells a positive reply. When the push format changes, this file changes; nothing else does.
 *
 * A push (protocol 2) is an array `[channel, offset, data]`, or `[channel, data]` when live-only:
 * msgpack `93|92 … d9 40 <64>`, JSON `[…,"<64>"]`. Every other server frame is a map with `t`. The data is always last, so the payload
 * (payload.ts: publish time, sequence, filler) sits at a fixed distance from the frame's end.
 */
import { Packr } from 'msgpackr';
import { DATA_LEN, readDigits, SEQ_AT, TS_AT } from './payload.js';

/** The subprotocols the load generator can offer, by wire name. */
export const SUBPROTOCOLS = {
  'v2.msgpack': 'switchboard.v2.msgpack',
  'v2.json': 'switchboard.v2.json',
} as const;
export type Wire = keyof typeof SUBPROTOCOLS;
export type Format = 'msgpack' | 'json';

/** What the load generator offers for each format. */
export const OFFERED: Readonly<Record<Format, Wire>> = { msgpack: 'v2.msgpack', json: 'v2.json' };

/** The wire a server chose (its `Sec-WebSocket-Protocol` answer); unknown or absent names count as msgpack. */
export function wireOf(subprotocol: string): Wire {
  for (const [wire, name] of Object.entries(SUBPROTOCOLS)) if (name === subprotocol) return wire as Wire;
  return 'v2.msgpack';
}

export function formatOf(wire: Wire): Format {
  return wire.endsWith('json') ? 'json' : 'msgpack';
}

/** What readPush found: a push carrying the benchmark payload, a frame that is no push, or a push without it. */
export const PUSH = 1;
export const NOT_PUSH = 0;
export const MALFORMED = -1;

/** Filled by readPush; one object reused for every frame (no allocation per delivery). */
export interface PushFields {
  time: number;
  seq: number;
}

const Q = 0x22; // "

/**
 * Recognises a publication push in [start, end) and reads the publish time (µs) and sequence of
 * its payload into `out`. Returns PUSH, NOT_PUSH (a reply or another frame) or MALFORMED.
 */
export function readPush(wire: Wire, buf: Uint8Array, start: number, end: number, out: PushFields): number {
  const b0 = buf[start];
  let dataEnd = end; // where the payload's last byte ends
  let tailOk: boolean;
  if (wire === 'v2.msgpack') {
    if (b0 !== 0x93 && b0 !== 0x92) return NOT_PUSH;
    // The data ends the array: the str8 header of the 64-byte string (d9 40), then the string.
    tailOk = buf[end - DATA_LEN - 2] === 0xd9 && buf[end - DATA_LEN - 1] === DATA_LEN;
  } else {
    // JSON: `[` … `"<64>"]`.
    if (b0 !== 0x5b) return NOT_PUSH;
    dataEnd = end - 2;
    tailOk = buf[dataEnd] === Q && buf[dataEnd - DATA_LEN - 1] === Q;
  }
  if (!tailOk || end - start < DATA_LEN + 4) return MALFORMED;
  out.time = readDigits(buf, dataEnd - DATA_LEN + TS_AT);
  out.seq = readDigits(buf, dataEnd - DATA_LEN + SEQ_AT);
  return PUSH;
}

const unpackr = new Packr({ useRecords: false, variableMapSize: true });
const utf8 = new TextDecoder();

export interface Reply {
  readonly ok: boolean;
  readonly what: string;
}

/** Decodes a hub reply (`ok` or `err`); setup and error paths only. */
export function readReply(wire: Wire, bytes: Uint8Array): Reply {
  let frame: { t?: string; code?: number; msg?: string };
  try {
    frame = formatOf(wire) === 'json' ? JSON.parse(utf8.decode(bytes)) : unpackr.unpack(bytes);
  } catch {
    return { ok: false, what: 'undecodable reply' };
  }
  if (frame.t === 'ok') return { ok: true, what: 'ok' };
  return { ok: false, what: `${frame.t} ${frame.code ?? ''} ${frame.msg ?? ''}`.trim() };
}

/** Whether a hub reply is an `ok`, without decoding: msgpack `8x a1 74 a2 6f 6b`, JSON `{"t":"ok"`. */
export function isOk(wire: Wire, buf: Uint8Array, start: number): boolean {
  if (formatOf(wire) === 'json') return buf[start + 6] === 0x6f && buf[start + 7] === 0x6b && buf[start + 8] === Q;
  return buf[start + 3] === 0xa2 && buf[start + 4] === 0x6f && buf[start + 5] === 0x6b;
}
