/**
 * An independent, strict reader of the msgpack subset protocol v1 allows on the wire: nil,
 * booleans, integers, floats, UTF-8 strings, arrays, and maps with string keys. No bin, no ext
 * (msgpackr's own `undefined`, records, timestamps), no 0xc1, exactly one value, nothing after it.
 * It stands for a decoder in another language, which must be able to read every hub frame.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true });

class Problem extends Error {}

/** Returns undefined when `bytes` is one standard value of that subset, else what is wrong. */
export function standardMsgpackProblem(bytes: Uint8Array): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;

  const need = (n: number): void => {
    if (pos + n > bytes.length) throw new Problem(`truncated at byte ${pos}`);
  };
  const uint = (size: 1 | 2 | 4): number => {
    need(size);
    const n = size === 1 ? view.getUint8(pos) : size === 2 ? view.getUint16(pos) : view.getUint32(pos);
    pos += size;
    return n;
  };
  const skip = (n: number): void => {
    need(n);
    pos += n;
  };
  const str = (length: number): void => {
    need(length);
    try {
      utf8.decode(bytes.subarray(pos, pos + length));
    } catch {
      throw new Problem(`string at byte ${pos} is not valid UTF-8`);
    }
    pos += length;
  };
  const items = (count: number, isMap: boolean): void => {
    for (let i = 0; i < count; i++) {
      if (isMap) value(true);
      value(false);
    }
  };

  /** Fixed payload sizes of the scalar types after their type byte. */
  const SCALAR_SIZES: Readonly<Record<number, number>> = {
    192: 0, // nil
    194: 0, // false
    195: 0, // true
    202: 4, // float32
    203: 8, // float64
    204: 1, // uint8
    205: 2, // uint16
    206: 4, // uint32
    207: 8, // uint64
    208: 1, // int8
    209: 2, // int16
    210: 4, // int32
    211: 8, // int64
  };

  function value(asKey: boolean): void {
    const at = pos;
    const b = uint(1);
    const isStr = (b >= 0xa0 && b <= 0xbf) || b === 0xd9 || b === 0xda || b === 0xdb;
    if (asKey && !isStr) throw new Problem(`map key at byte ${at} is not a string (0x${b.toString(16)})`);
    if (b <= 0x7f || b >= 0xe0) return; // fixints
    if (b <= 0x8f) items(b & 0x0f, true);
    else if (b <= 0x9f) items(b & 0x0f, false);
    else if (b <= 0xbf) str(b & 0x1f);
    else if (b in SCALAR_SIZES) skip(SCALAR_SIZES[b] ?? 0);
    else if (b === 0xd9) str(uint(1));
    else if (b === 0xda) str(uint(2));
    else if (b === 0xdb) str(uint(4));
    else if (b === 0xdc) items(uint(2), false);
    else if (b === 0xdd) items(uint(4), false);
    else if (b === 0xde) items(uint(2), true);
    else if (b === 0xdf) items(uint(4), true);
    else throw new Problem(`type byte 0x${b.toString(16)} at byte ${at} is not allowed (bin, ext or never-used)`);
  }

  try {
    value(false);
    if (pos !== bytes.length) throw new Problem(`${bytes.length - pos} bytes after the value`);
    return undefined;
  } catch (error) {
    if (error instanceof Problem) return error.message;
    throw error;
  }
}

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
export const unhex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
