/**
 * Hostile msgpack built byte by byte, as an attacker would: msgpackr's own extensions for shared
 * references (ext type 0x69 defines a value under an id, 0x70 points back to it), which a
 * decoder that honours them turns into values far larger than their bytes. The hub must refuse
 * them before anything decodes or walks them.
 */

export const concat = (...parts: Array<Uint8Array | number[]>): Uint8Array => {
  const arrays = parts.map((part) => (part instanceof Uint8Array ? part : Uint8Array.from(part)));
  const out = new Uint8Array(arrays.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of arrays) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};

const uint32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
/** fixext 4 (0xd6) of type 0x69: the next value is defined under `id`. */
const define = (id: number): number[] => [0xd6, 0x69, ...uint32(id)];
/** fixext 4 (0xd6) of type 0x70: the value defined under `id`. */
const pointTo = (id: number): number[] => [0xd6, 0x70, ...uint32(id)];

function str(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length < 32) return concat([0xa0 | bytes.length], bytes);
  if (bytes.length < 0x10000) return concat([0xda, bytes.length >> 8, bytes.length & 0xff], bytes);
  return concat([0xdb, ...uint32(bytes.length)], bytes);
}

/** x_0 = "a", x_k = [x_{k-1}, x_{k-1}] with the second a reference: 13 bytes per level, 2^levels paths. */
export function referenceDag(levels: number): Uint8Array {
  let value: Uint8Array = concat(define(0), str('a'));
  for (let level = 1; level <= levels; level++) {
    value = concat(define(level), [0x92], value, pointTo(level - 1));
  }
  return value;
}

/** An array of `copies` references to one string of `length` characters: 6 bytes per copy. */
export function amplifiedString(copies: number, length: number): Uint8Array {
  const items: Array<Uint8Array | number[]> = [define(1), str('x'.repeat(length))];
  for (let i = 1; i < copies; i++) items.push(pointTo(1));
  return concat([0xdd, ...uint32(copies)], ...items);
}

/** A `pub` frame `{t, id, ch, d}` around already-encoded data bytes, plus optional trailing bytes. */
export function pubFrame(id: number, channel: string, data: Uint8Array, trailing: number[] = []): Uint8Array {
  return concat([0x84], str('t'), str('pub'), str('id'), [id], str('ch'), str(channel), str('d'), data, trailing);
}
