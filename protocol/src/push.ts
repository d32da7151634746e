/**
 * Publication pushes, the frame every delivery costs: written by the hub around data that stays
 * encoded, and read back into their object form by clients. No zod and no msgpackr here, so that
 * a browser bundle that needs only these pays for none of it.
 */

const utf8Encoder = new TextEncoder();

/** msgpack: a fixarray header of 3 (channel, offset, data) or 2 (channel, data: live-only). */
const FIXARRAY_3 = 0x93;
const FIXARRAY_2 = 0x92;

/** A channel name as a msgpack string: channel names are ASCII (protocol §6) and at most 255 long. */
export function encodeChannelName(channel: string): Uint8Array {
  const length = channel.length;
  const header = length < 32 ? [0xa0 | length] : [0xd9, length];
  const bytes = new Uint8Array(header.length + length);
  bytes.set(header, 0);
  for (let i = 0; i < length; i++) bytes[header.length + i] = channel.charCodeAt(i);
  return bytes;
}

/**
 * Bytes of an offset (0..2^53−1): the smallest msgpack unsigned integer up to 2^32 − 1, then a
 * float64, as the hub's encoder writes every integer beyond 32 bits (protocol §11).
 */
function offsetBytes(off: number): number[] {
  if (off < 0x80) return [off];
  if (off < 0x100) return [0xcc, off];
  if (off < 0x10000) return [0xcd, off >>> 8, off & 0xff];
  if (off < 0x100000000) return [0xce, off >>> 24, (off >>> 16) & 0xff, (off >>> 8) & 0xff, off & 0xff];
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, off);
  return [0xcb, ...new Uint8Array(view.buffer)];
}

/**
 * A publication push in the msgpack flavour: the array `[channel, offset, data]`, or
 * `[channel, data]` when live-only, around already-encoded data that is appended verbatim, never
 * decoded. No epoch (the subscription's epoch comes with its `sub` reply and with each `lost`
 * push) and no keys: 3 + channel length bytes of overhead up to offset 127, 7 + channel length
 * up to 2^32 − 1. Called once per publication per wire format, never per subscriber; `name` is
 * the channel's encodeChannelName, which a caller may keep.
 */
export function encodePublicationMsgpack(name: Uint8Array, off: number | undefined, data: Uint8Array): Uint8Array {
  const offset = off === undefined ? [] : offsetBytes(off);
  const frame = new Uint8Array(1 + name.length + offset.length + data.length);
  frame[0] = off === undefined ? FIXARRAY_2 : FIXARRAY_3;
  frame.set(name, 1);
  frame.set(offset, 1 + name.length);
  frame.set(data, 1 + name.length + offset.length);
  return frame;
}

/** The JSON flavour of the same push, `["channel",offset,data]`; `dataJson` is made once per publication. */
export function encodePublicationJson(channel: string, off: number | undefined, dataJson: string): Uint8Array {
  const where = off === undefined ? '' : `,${off}`;
  return utf8Encoder.encode(`[${JSON.stringify(channel)}${where},${dataJson}]`);
}

/**
 * What a delta push carries (protocol §3.3, delta compression): the publication's data as JSON
 * text (`FULL`), a fossil delta of that text against the previous one on the subscription
 * (`PATCH`), or the text a new subscriber holds as its base without a publication (`BASE`).
 */
export const DeltaKind = { FULL: 0, PATCH: 1, BASE: 2 } as const;
export type DeltaKind = (typeof DeltaKind)[keyof typeof DeltaKind];

const FIXARRAY_4 = 0x94;
const MSGPACK_NIL = 0xc0;

/** A msgpack string header for `length` UTF-8 bytes. */
function stringHeader(length: number): number[] {
  if (length < 32) return [0xa0 | length];
  if (length < 0x100) return [0xd9, length];
  if (length < 0x10000) return [0xda, length >>> 8, length & 0xff];
  return [0xdb, length >>> 24, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff];
}

/**
 * A delta push in the msgpack flavour: `[channel, offset | nil, kind, text]`. Four elements tell it
 * from a publication push; `text` is JSON text (FULL, BASE) or a patch as a byte string (PATCH,
 * see patchText). Called once per publication per wire format on a channel's delta topic.
 */
export function encodeDeltaPushMsgpack(
  name: Uint8Array,
  off: number | undefined,
  kind: DeltaKind,
  text: string,
): Uint8Array {
  const offset = off === undefined ? [MSGPACK_NIL] : offsetBytes(off);
  const body = utf8Encoder.encode(text);
  const header = stringHeader(body.length);
  const frame = new Uint8Array(1 + name.length + offset.length + 1 + header.length + body.length);
  let at = 0;
  frame[at++] = FIXARRAY_4;
  frame.set(name, at);
  at += name.length;
  frame.set(offset, at);
  at += offset.length;
  frame[at++] = kind;
  frame.set(header, at);
  frame.set(body, at + header.length);
  return frame;
}

/** The JSON flavour of the same push, `["channel",offset|null,kind,"text"]`. */
export function encodeDeltaPushJson(
  channel: string,
  off: number | undefined,
  kind: DeltaKind,
  text: string,
): Uint8Array {
  return utf8Encoder.encode(`[${JSON.stringify(channel)},${off ?? 'null'},${kind},${JSON.stringify(text)}]`);
}

/**
 * A patch's bytes as a string of one character per byte (U+0000..U+00FF), so that both wire
 * formats carry it as a string and it comes back byte for byte (bytesOfPatch). Patches are
 * mostly ASCII: their commands are digits and punctuation, their inserts pieces of JSON text.
 */
export function patchText(patch: Uint8Array): string {
  let text = '';
  // Chunks keep the argument list of fromCharCode well under engines' limits.
  for (let i = 0; i < patch.length; i += 8192) text += String.fromCharCode(...patch.subarray(i, i + 8192));
  return text;
}

/** The bytes of a patch written by patchText; undefined when a character is not a byte. */
export function bytesOfPatch(text: string): Uint8Array | undefined {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) return undefined;
    bytes[i] = code;
  }
  return bytes;
}

/**
 * A hub frame as it comes off the wire, with a publication push (an array) turned into its object
 * form; anything else is returned as it is, for the schema to judge.
 */
export function fromWire(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  if (value.length === 3) return { t: 'msg', ch: value[0], off: value[1], d: value[2] };
  if (value.length === 2) return { t: 'msg', ch: value[0], d: value[1] };
  if (value.length === 4) {
    const off = value[1] === null ? undefined : value[1];
    return { t: 'dmsg', ch: value[0], ...(off === undefined ? {} : { off }), k: value[2], s: value[3] };
  }
  return value;
}
