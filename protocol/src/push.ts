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
 * A hub frame as it comes off the wire, with a publication push (an array) turned into its object
 * form; anything else is returned as it is, for the schema to judge.
 */
export function fromWire(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  if (value.length === 3) return { t: 'msg', ch: value[0], off: value[1], d: value[2] };
  if (value.length === 2) return { t: 'msg', ch: value[0], d: value[1] };
  return value;
}
