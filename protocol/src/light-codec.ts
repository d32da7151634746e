import type { Codec } from './codec.js';
import { encodeMsgpack } from './msgpack-writer.js';
import { parseJson, parseMsgpack } from './parse.js';
import type { WireFormat } from './version.js';

/**
 * The codecs a client carries: the same wire formats as `codecs` in codec.ts, in what a browser
 * bundle can afford. msgpack frames are written by encodeMsgpack (0.9 kB gzipped, where
 * msgpackr's Packr costs 11.9 kB) and read by the same parser as the hub's (parse.ts: msgpackr's
 * decoder alone, behind the subset gate).
 * The hub keeps using `codecs`; test/protocol/light-codec.test.ts holds the two to the same values.
 */

const utf8Encoder = new TextEncoder();

export const lightCodecs: Readonly<Record<WireFormat, Codec>> = {
  msgpack: { format: 'msgpack', binary: true, encode: encodeMsgpack, parse: parseMsgpack },
  json: {
    format: 'json',
    binary: false,
    encode: (frame) => utf8Encoder.encode(JSON.stringify(frame)),
    parse: parseJson,
  },
};
