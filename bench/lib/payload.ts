/**
 * The benchmark's publication payload and the client frames that carry it.
 *
 * Every publication's data is one 64-character ASCII string:
 *   [0, 16)  publish time, µs on the machine's monotonic clock (clock.ts), zero-padded decimal
 *   [16, 32) per-channel sequence number set by the publisher, zero-padded decimal
 *   [32, 64) filler
 * The hub puts the data last in its push (msgpack: `d9 40` + 64 bytes; JSON: the string in
 * quotes), so a receiver reads the time and the sequence at fixed offsets from the frame's end
 * without decoding (wire.ts). The ceiling server publishes a copy of the hub's push for the same
 * channel, so subscribers of both receive frames of the same length, parsed by the same code.
 */
import { encodeChannelName, encodeData, encodePublicationJson, encodePublicationMsgpack } from '@switchboard/protocol';
import { Packr } from 'msgpackr';
import type { Format } from './wire.js';

export const DATA_LEN = 64;
export const TS_AT = 0;
export const SEQ_AT = 16;
const DIGITS = 16;
/** A typical offset during a run: it takes the 3-byte uint16 form, as most offsets do in the runs. */
const SAMPLE_OFFSET = 1000;

const packr = new Packr({ useRecords: false, variableMapSize: true });
const utf8 = new TextEncoder();

export function sampleData(): string {
  return '0'.repeat(32) + 'x'.repeat(32);
}

/** The payload as text, for ingress paths that take strings (HTTP, Redis, Kafka). */
export function payloadText(micros: number, seq: number): string {
  return `${String(micros).padStart(DIGITS, '0')}${String(seq).padStart(DIGITS, '0')}${'x'.repeat(32)}`;
}

/** Writes `value` as DIGITS zero-padded decimal digits at `at`. */
export function writeDigits(buf: Uint8Array, at: number, value: number): void {
  let v = value;
  for (let i = DIGITS - 1; i >= 0; i--) {
    buf[at + i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
}

/** Reads DIGITS decimal digits at `at`; no allocation. */
export function readDigits(buf: Uint8Array, at: number): number {
  let v = 0;
  for (let i = 0; i < DIGITS; i++) v = v * 10 + ((buf[at + i] ?? 48) - 48);
  return v;
}

/** Stamps time and sequence into a payload whose data string ends at `dataEnd`. */
export function stampPayload(buf: Uint8Array, dataEnd: number, micros: number, seq: number): void {
  writeDigits(buf, dataEnd - DATA_LEN + TS_AT, micros);
  writeDigits(buf, dataEnd - DATA_LEN + SEQ_AT, seq);
}

/** The hub's push frame for `channel` with the benchmark payload at a typical position. */
export function samplePush(channel: string, format: Format): Uint8Array {
  return format === 'json'
    ? encodePublicationJson(channel, SAMPLE_OFFSET, JSON.stringify(sampleData()))
    : encodePublicationMsgpack(encodeChannelName(channel), SAMPLE_OFFSET, encodeData(sampleData()));
}

/** A client frame to the hub (connect, sub), in the connection's format; setup only. */
export function clientFrame(format: Format, frame: object): Uint8Array {
  return format === 'json' ? utf8.encode(JSON.stringify(frame)) : packr.pack(frame);
}

/**
 * A `pub` frame template: `d` is the last key, so the payload ends the frame `dataEndFromEnd`
 * bytes before its end (msgpack 0, JSON 2: `"}`). The request id is patched per publication at
 * `idAt`: msgpack packs it as uint32 (`ce` + 4 bytes); JSON as 10 decimal digits, so ids run from
 * 1,000,000,000 to 4,294,967,295 (the protocol's ids are 1 … 2^32 − 1; JSON has no leading zeros).
 */
export interface PubTemplate {
  readonly bytes: Uint8Array;
  readonly idAt: number;
  readonly idDigits: boolean;
  readonly dataEndFromEnd: number;
}

export const ID_PLACEHOLDER = 0xfffffff0;
export const JSON_ID_MIN = 1_000_000_000;
export const JSON_ID_MAX = 0xffffffff;

export function pubTemplate(channel: string, format: Format): PubTemplate {
  const frame = { t: 'pub', id: format === 'json' ? JSON_ID_MIN : ID_PLACEHOLDER, ch: channel, d: sampleData() };
  const bytes = clientFrame(format, frame);
  if (format === 'json') {
    const idAt = Buffer.from(bytes).indexOf(`"id":${JSON_ID_MIN}`) + 5;
    if (idAt < 5 || bytes[bytes.length - 1] !== 0x7d) throw new Error('unexpected JSON layout of the pub template');
    return { bytes, idAt, idDigits: true, dataEndFromEnd: 2 };
  }
  const at = Buffer.from(bytes).indexOf(Buffer.from([0xce, 0xff, 0xff, 0xff, 0xf0]));
  if (at < 0 || bytes[bytes.length - DATA_LEN - 1] !== DATA_LEN)
    throw new Error('unexpected msgpack layout of the pub template');
  return { bytes, idAt: at + 1, idDigits: false, dataEndFromEnd: 0 };
}

/** Writes request id `id` into a copy of a template at `at` (see PubTemplate). */
export function writeId(buf: Buffer, at: number, digits: boolean, id: number): void {
  if (!digits) buf.writeUInt32BE(id, at);
  else for (let i = 9, v = id; i >= 0; i--, v = Math.floor(v / 10)) buf[at + i] = 48 + (v % 10);
}

/**
 * The ceiling server's publish message: `P` (publish as binary) or `T` (as text), topic length,
 * topic, then the frame to publish, a copy of the hub's push for the same channel.
 */
export function ceilingPubTemplate(channel: string, format: Format): Uint8Array {
  const topic = Buffer.from(channel, 'latin1');
  const push = samplePush(channel, format);
  const bytes = new Uint8Array(2 + topic.length + push.length);
  bytes[0] = format === 'json' ? 0x54 : 0x50;
  bytes[1] = topic.length;
  bytes.set(topic, 2);
  bytes.set(push, 2 + topic.length);
  return bytes;
}

/** The ceiling server's subscribe message: `S` then the topic. */
export function ceilingSubMessage(channel: string): Uint8Array {
  return Buffer.concat([Buffer.from('S'), Buffer.from(channel, 'latin1')]);
}
