import { Position as PositionSchema } from '@switchboard/protocol';
import type { PositionedPublication } from './broker.js';

/**
 * What the publish script (redis-scripts.ts) sends on a channel's envelope pub/sub channel, and
 * how a hub reads it back. Data stays msgpack bytes: each publication's data is a view into the
 * message, never a copy.
 *
 * - One publication: `epoch:offset:time:trace:data` (time: Unix ms of acceptance; trace: a W3C
 *   traceparent or nothing).
 * - Several publications of one call, at consecutive offsets: `*epoch:first:time:count:` then,
 *   per publication, `<trace length>:<trace><data length>:<data>`. One message instead of one per
 *   publication saves Redis a PUBLISH and each subscribed hub a message per publication: a
 *   Kafka slice carries about a hundred publications per channel per call.
 * - A presence change: `!` and its JSON (src/presence/); epochs never start with `!` or `*`.
 */
export const BATCH_MARK_BYTE = 0x2a;
export const PRESENCE_MARK = '!';
export const PRESENCE_MARK_BYTE = 0x21;

const COLON = 0x3a;
/** Longest decimal length field read (a length over 2^53 is malformed anyway). */
const MAX_DIGITS = 15;

/** The publications of one envelope, in order; undefined when it is malformed. */
export function parseEnvelope(channel: string, message: Buffer): PositionedPublication[] | undefined {
  return message[0] === BATCH_MARK_BYTE ? parseBatch(channel, message) : parseSingle(channel, message);
}

function parseSingle(channel: string, message: Buffer): PositionedPublication[] | undefined {
  const header = fields(message, 0, 4);
  if (!header) return undefined;
  const [ep, off, time, trace, end] = header;
  const position = PositionSchema.safeParse({ ep, off: Number(off) });
  const ms = Number(time);
  if (!position.success || !Number.isSafeInteger(ms)) return undefined;
  const data = message.subarray(end);
  return [
    trace === ''
      ? { channel, position: position.data, data, time: ms }
      : { channel, position: position.data, data, time: ms, trace },
  ];
}

function parseBatch(channel: string, message: Buffer): PositionedPublication[] | undefined {
  const header = fields(message, 1, 4);
  if (!header) return undefined;
  const [ep, first, time, count, start] = header;
  const position = PositionSchema.safeParse({ ep, off: Number(first) });
  const ms = Number(time);
  const n = Number(count);
  if (!position.success || !Number.isSafeInteger(ms) || !Number.isSafeInteger(n) || n < 1) return undefined;
  const publications: PositionedPublication[] = [];
  let at = start;
  for (let i = 0; i < n; i++) {
    const traceLength = length(message, at);
    if (!traceLength) return undefined;
    const trace = message.toString('latin1', traceLength.end, traceLength.end + traceLength.value);
    const dataLength = length(message, traceLength.end + traceLength.value);
    if (!dataLength || dataLength.end + dataLength.value > message.length) return undefined;
    const data = message.subarray(dataLength.end, dataLength.end + dataLength.value);
    at = dataLength.end + dataLength.value;
    const pos = { ep: position.data.ep, off: position.data.off + i };
    publications.push(
      trace === '' ? { channel, position: pos, data, time: ms } : { channel, position: pos, data, time: ms, trace },
    );
  }
  return at === message.length ? publications : undefined;
}

/** `count` colon-terminated latin1 fields from `from`, and where the rest begins. */
function fields(message: Buffer, from: number, count: 4): [string, string, string, string, number] | undefined {
  const found: string[] = [];
  let at = from;
  for (let i = 0; i < count; i++) {
    const colon = message.indexOf(COLON, at);
    if (colon === -1) return undefined;
    found.push(message.toString('latin1', at, colon));
    at = colon + 1;
  }
  const [a = '', b = '', c = '', d = ''] = found;
  return [a, b, c, d, at];
}

/** A decimal length ending in a colon at `from`: its value and where what it measures begins. */
function length(message: Buffer, from: number): { value: number; end: number } | undefined {
  let value = 0;
  for (let at = from; at < message.length && at - from <= MAX_DIGITS; at++) {
    const byte = message[at] as number;
    if (byte === COLON) return at === from ? undefined : { value, end: at + 1 };
    if (byte < 0x30 || byte > 0x39) return undefined;
    value = value * 10 + (byte - 0x30);
  }
  return undefined;
}
