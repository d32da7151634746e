import { MAX_WIRE_DEPTH } from './msgpack-subset.js';

/**
 * Encodes a JSON value as the protocol's msgpack (section 5), for clients: nil, booleans, the
 * shortest int format up to 32 bits, float64 for every other number, strings, arrays and maps
 * with string keys. What msgpackCodec.encode produces decodes to the same value; the bytes may
 * differ only in a string's header, which is chosen here from the exact UTF-8 length.
 *
 * Why not msgpackr's Packr, as the hub uses: its encoder ships with its decoder (Packr extends
 * Unpackr), 11.9 kB gzipped in a browser bundle against 5.6 kB for msgpackr/unpack alone; this
 * writer is 0.9 kB. A client encodes only its own requests, so it needs none of msgpackr's
 * records, extensions or speed on large data.
 *
 * Values are read as JSON.stringify reads them: `toJSON` is called, keys whose value is
 * undefined, a function or a symbol are left out, and such values become nil in arrays. A
 * BigInt, a cycle or nesting deeper than MAX_WIRE_DEPTH throws a TypeError.
 */
export function encodeMsgpack(value: unknown): Uint8Array {
  const writer = new Writer();
  writer.value(value, 0);
  return writer.bytes();
}

const utf8 = new TextEncoder();

class Writer {
  private buffer = new Uint8Array(256);
  private view = new DataView(this.buffer.buffer);
  private length = 0;

  bytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  value(value: unknown, depth: number): void {
    const json = jsonView(value);
    if (json === null || json === undefined || typeof json === 'function' || typeof json === 'symbol') this.byte(0xc0);
    else if (typeof json === 'boolean') this.byte(json ? 0xc3 : 0xc2);
    else if (typeof json === 'number') this.number(json);
    else if (typeof json === 'string') this.string(json);
    else if (typeof json === 'bigint') throw new TypeError('a BigInt is not JSON data');
    else {
      if (depth >= MAX_WIRE_DEPTH) throw new TypeError(`nested deeper than ${MAX_WIRE_DEPTH} levels`);
      if (Array.isArray(json)) {
        this.header(json.length, 0x90, 0xdc);
        for (const item of json) this.value(item, depth + 1);
        return;
      }
      const entries = Object.entries(json as object).filter(([, item]) => isEncodable(jsonView(item)));
      this.header(entries.length, 0x80, 0xde);
      for (const [key, item] of entries) {
        this.string(key);
        this.value(item, depth + 1);
      }
    }
  }

  private number(value: number): void {
    if (Number.isInteger(value) && value >= -0x80000000 && value <= 0xffffffff) {
      if (value >= 0) {
        if (value < 0x80) this.byte(value);
        else if (value < 0x100) this.fixed(0xcc, 1, value);
        else if (value < 0x10000) this.fixed(0xcd, 2, value);
        else this.fixed(0xce, 4, value);
      } else if (value >= -32) this.byte(0x100 + value);
      else if (value >= -0x80) this.fixed(0xd0, 1, value);
      else if (value >= -0x8000) this.fixed(0xd1, 2, value);
      else this.fixed(0xd2, 4, value);
      return;
    }
    this.reserve(9);
    this.buffer[this.length] = 0xcb;
    this.view.setFloat64(this.length + 1, value);
    this.length += 9;
  }

  private string(value: string): void {
    const bytes = utf8.encode(value);
    const size = bytes.byteLength;
    if (size < 32) this.byte(0xa0 + size);
    else if (size < 0x100) this.fixed(0xd9, 1, size);
    else if (size < 0x10000) this.fixed(0xda, 2, size);
    else this.fixed(0xdb, 4, size);
    this.reserve(size);
    this.buffer.set(bytes, this.length);
    this.length += size;
  }

  /** An array's or map's header: the fix form for fewer than 16 items, else 16 or 32 bits. */
  private header(count: number, fix: number, sized16: number): void {
    if (count < 16) this.byte(fix + count);
    else if (count < 0x10000) this.fixed(sized16, 2, count);
    else this.fixed(sized16 + 1, 4, count);
  }

  /** A type byte followed by a big-endian integer of `size` bytes (signed for the int types). */
  private fixed(type: number, size: 1 | 2 | 4, value: number): void {
    this.reserve(1 + size);
    const at = this.length + 1;
    this.buffer[this.length] = type;
    const signed = type >= 0xd0;
    if (size === 1) signed ? this.view.setInt8(at, value) : this.view.setUint8(at, value);
    else if (size === 2) signed ? this.view.setInt16(at, value) : this.view.setUint16(at, value);
    else signed ? this.view.setInt32(at, value) : this.view.setUint32(at, value);
    this.length += 1 + size;
  }

  private byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  private reserve(more: number): void {
    if (this.length + more <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + more));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }
}

/** What JSON.stringify would serialize in place of `value`: the result of its `toJSON`, if any. */
function jsonView(value: unknown): unknown {
  const toJSON = (value as { toJSON?: unknown } | null | undefined)?.toJSON;
  return typeof toJSON === 'function' ? toJSON.call(value) : value;
}

/** Object members JSON.stringify keeps. */
function isEncodable(value: unknown): boolean {
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol';
}
