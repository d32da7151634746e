/**
 * The msgpack that protocol v1 defines: nil, booleans, integers, floats, strings, arrays, and
 * maps with string keys — the value space of JSON. One pass over the bytes decides whether a
 * frame stays inside it, before any decoder builds a value.
 *
 * Why a gate in front of msgpackr: msgpackr's decoder understands its own extensions whatever
 * its options say (record definitions under ext type 0x72, shared references 0x69/0x70, sets,
 * errors, regexps, BigInt), and they live in a table global to the module. With shared
 * references, about 360 bytes decode into a value of 2^26 paths, and anything that walks it
 * (validation, re-encoding, msgpackr's own error message for trailing bytes) stalls the event
 * loop for seconds. Here no extension, no `bin`, no 0xc1 and no non-string key passes, and the
 * frame must be exactly one value: what msgpackr then decodes is a tree with at most one node
 * per input byte.
 *
 * Cost: each step consumes at least one input byte, and each open container is closed once, so
 * time is linear in the frame's length; memory is one small stack entry per open container,
 * bounded by `maxDepth`.
 */

/** Deepest nesting of arrays and maps a frame may have on the wire (data is further limited to MAX_DATA_DEPTH). */
export const MAX_WIRE_DEPTH = 1_000;

/** Fixed payload sizes, after the type byte, of the scalar types the protocol allows. */
const SCALAR_PAYLOAD = new Map<number, number>([
  [0xc0, 0], // nil
  [0xc2, 0], // false
  [0xc3, 0], // true
  [0xca, 4], // float 32
  [0xcb, 8], // float 64
  [0xcc, 1], // uint 8
  [0xcd, 2], // uint 16
  [0xce, 4], // uint 32
  [0xcf, 8], // uint 64
  [0xd0, 1], // int 8
  [0xd1, 2], // int 16
  [0xd2, 4], // int 32
  [0xd3, 8], // int 64
]);

const isExtension = (byte: number) => (byte >= 0xc7 && byte <= 0xc9) || (byte >= 0xd4 && byte <= 0xd8);
const isBinary = (byte: number) => byte >= 0xc4 && byte <= 0xc6;

/**
 * Why `bytes` is not exactly one value of the protocol's msgpack subset, or undefined when it
 * is. The reasons are fixed texts: nothing of the input is ever copied into them.
 */
export function msgpackSubsetProblem(bytes: Uint8Array, maxDepth: number = MAX_WIRE_DEPTH): string | undefined {
  const end = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  /** Items still to read in each open container (a map's entries count twice: key and value). */
  const left: number[] = [];
  const isMap: boolean[] = [];
  let pos = 0;
  for (;;) {
    if (pos >= end) return 'truncated msgpack';
    const top = left.length - 1;
    // In a map, an even count of items left means the next item is a key.
    const isKey = top >= 0 && isMap[top] === true && (left[top] as number) % 2 === 0;
    if (top >= 0) left[top] = (left[top] as number) - 1;
    const byte = bytes[pos++] as number;
    let stringLength = -1;
    let payload = 0;
    let items = -1;
    let map = false;
    if (byte >= 0xa0 && byte <= 0xbf) stringLength = byte & 0x1f;
    else if (byte <= 0x7f || byte >= 0xe0) payload = 0;
    else if (byte >= 0x90 && byte <= 0x9f) items = byte & 0x0f;
    else if (byte >= 0x80 && byte <= 0x8f) {
      items = (byte & 0x0f) * 2;
      map = true;
    } else if (byte === 0xd9 || byte === 0xda || byte === 0xdb) {
      const size = byte === 0xd9 ? 1 : byte === 0xda ? 2 : 4;
      if (pos + size > end) return 'truncated msgpack';
      stringLength = size === 1 ? view.getUint8(pos) : size === 2 ? view.getUint16(pos) : view.getUint32(pos);
      pos += size;
    } else if (byte >= 0xdc && byte <= 0xdf) {
      const size = byte === 0xdc || byte === 0xde ? 2 : 4;
      if (pos + size > end) return 'truncated msgpack';
      const count = size === 2 ? view.getUint16(pos) : view.getUint32(pos);
      pos += size;
      map = byte >= 0xde;
      items = map ? count * 2 : count;
    } else if (isExtension(byte)) return 'msgpack extension types are not part of the protocol';
    else if (isBinary(byte)) return 'msgpack binary values are not part of the protocol';
    else {
      const size = SCALAR_PAYLOAD.get(byte);
      if (size === undefined) return 'byte 0xc1 is not msgpack';
      payload = size;
    }
    if (isKey && stringLength < 0) return 'map keys must be strings';
    if (stringLength >= 0) payload = stringLength;
    if (payload > end - pos) return 'truncated msgpack';
    pos += payload;
    if (items >= 0) {
      if (left.length >= maxDepth) return `nested deeper than ${maxDepth} levels`;
      // Every item takes at least one byte: a count the rest of the frame cannot hold is a lie.
      if (items > end - pos) return 'truncated msgpack';
      if (items > 0) {
        left.push(items);
        isMap.push(map);
      }
    }
    while (left.length > 0 && left[left.length - 1] === 0) {
      left.pop();
      isMap.pop();
    }
    if (left.length === 0) break;
  }
  return pos === end ? undefined : 'bytes after the end of the msgpack value';
}
