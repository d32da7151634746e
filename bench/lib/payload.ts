/**
 * The benchmark's publication payload and the frames that carry it.
 *
 * Every publication's data is one 64-character ASCII string (msgpack str8: `d9 40` + 64 bytes):
 *   [0, 16)  publish time, µs on the machine's monotonic clock (clock.ts), zero-padded decimal
 *   [16, 32) per-channel sequence number set by the publisher, zero-padded decimal
 *   [32, 64) filler
 * The hub splices the data bytes verbatim at the end of its push frame (protocol §9.2: `d` is the
 * last key, `a1 64` then the value), so a receiver finds the time at `end - 64` and the sequence
 * at `end - 48` without decoding the frame. The ceiling server publishes frames with exactly the
 * same bytes layout and length, so both are parsed by the same code at the same cost.
 */
import { encodeChannelName, encodeData, encodePublicationMsgpack } from '@switchboard/protocol';
import { Packr } from 'msgpackr';

export const DATA_LEN = 64;
const TS_AT = 0;
const SEQ_AT = 16;
const DIGITS = 16;
/** A typical offset during a run: it takes the 3-byte uint16 form, as most offsets do in the runs. */
const SAMPLE_OFFSET = 1000;

const packr = new Packr({ useRecords: false, variableMapSize: true });

export function sampleData(): string {
  return '0'.repeat(32) + 'x'.repeat(32);
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

/** Whether [start, end) ends with `"d"` → str8 of DATA_LEN: the tail of a benchmark push. */
export function hasPayloadTail(buf: Uint8Array, start: number, end: number): boolean {
  return (
    end - start >= DATA_LEN + 4 &&
    buf[end - DATA_LEN - 4] === 0xa1 &&
    buf[end - DATA_LEN - 3] === 0x64 &&
    buf[end - DATA_LEN - 2] === 0xd9 &&
    buf[end - DATA_LEN - 1] === DATA_LEN
  );
}

export function payloadTime(buf: Uint8Array, end: number): number {
  return readDigits(buf, end - DATA_LEN + TS_AT);
}

export function payloadSeq(buf: Uint8Array, end: number): number {
  return readDigits(buf, end - DATA_LEN + SEQ_AT);
}

/** Stamps time and sequence into a payload whose data string ends at `end`. */
export function stampPayload(buf: Uint8Array, end: number, micros: number, seq: number): void {
  writeDigits(buf, end - DATA_LEN + TS_AT, micros);
  writeDigits(buf, end - DATA_LEN + SEQ_AT, seq);
}

/** The hub's push frame for `channel` with the benchmark payload at a typical position. */
export function samplePush(channel: string): Uint8Array {
  return encodePublicationMsgpack(encodeChannelName(channel), SAMPLE_OFFSET, encodeData(sampleData()));
}

/** msgpack of a client frame; only for setup, never on the hot path. */
export function pack(frame: object): Uint8Array {
  return packr.pack(frame);
}

export function unpack(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

/** The request id placeholder in a `pub` template: packed as uint32 (`ce` + 4 bytes), patched per publication. */
export const ID_PLACEHOLDER = 0xfffffff0;

/**
 * The msgpack `{t:'pub', id, ch, d}` frame for `channel`, and where its id's 4 bytes are. `d` is
 * the last key, so the payload string ends the frame.
 */
export function pubTemplate(channel: string): { bytes: Uint8Array; idAt: number } {
  const bytes = pack({ t: 'pub', id: ID_PLACEHOLDER, ch: channel, d: sampleData() });
  for (let i = 0; i + 4 < bytes.length; i++) {
    if (bytes[i] === 0xce && bytes[i + 1] === 0xff && bytes[i + 2] === 0xff && bytes[i + 3] === 0xff) {
      if (bytes[i + 4] === 0xf0 && hasPayloadTail(bytes, 0, bytes.length)) return { bytes, idAt: i + 1 };
    }
  }
  throw new Error('unexpected msgpack layout of the pub template');
}

/**
 * The ceiling server's publish message: `P`, topic length, topic, then the raw frame to publish,
 * which is a copy of the hub's push for the same channel (same length, same payload tail).
 */
export function ceilingPubTemplate(channel: string): Uint8Array {
  const topic = Buffer.from(channel, 'latin1');
  const push = samplePush(channel);
  const bytes = new Uint8Array(2 + topic.length + push.length);
  bytes[0] = 0x50;
  bytes[1] = topic.length;
  bytes.set(topic, 2);
  bytes.set(push, 2 + topic.length);
  return bytes;
}

/** The ceiling server's subscribe message: `S` then the topic. */
export function ceilingSubMessage(channel: string): Uint8Array {
  return Buffer.concat([Buffer.from('S'), Buffer.from(channel, 'latin1')]);
}
