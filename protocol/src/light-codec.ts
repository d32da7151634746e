import { Unpackr } from 'msgpackr/unpack';
import type { Codec } from './codec.js';
import { msgpackSubsetProblem } from './msgpack-subset.js';
import { encodeMsgpack } from './msgpack-writer.js';
import type { WireFormat } from './version.js';

/**
 * The codecs a client carries: the same wire formats as `codecs` in codec.ts, in what a browser
 * bundle can afford. msgpack frames are written by encodeMsgpack (0.9 kB gzipped, where
 * msgpackr's Packr costs 11.9 kB) and read by msgpackr's decoder alone (msgpackr/unpack, 5.6 kB),
 * behind the same subset gate as the hub's: nothing outside the protocol's msgpack reaches it.
 * The hub keeps using `codecs`; test/protocol/light-codec.test.ts holds the two to the same values.
 */

/** The Unpackr options of codec.ts, for the same reasons: no records, no structured clone, numbers as numbers. */
const unpackr = new Unpackr({
  useRecords: false,
  structuredClone: false,
  moreTypes: false,
  mapsAsObjects: true,
  int64AsType: 'number',
  bundleStrings: false,
  sequential: false,
});
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Parse failures carry fixed texts only, never a copy of the input (as in codec.ts). */
function parseMsgpack(bytes: Uint8Array): unknown {
  const problem = msgpackSubsetProblem(bytes);
  if (problem) throw new Error(problem);
  try {
    return unpackr.unpack(bytes);
  } catch {
    throw new Error('malformed msgpack');
  }
}

function parseJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8Decoder.decode(bytes);
  } catch {
    throw new Error('not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('not valid JSON');
  }
}

export const lightCodecs: Readonly<Record<WireFormat, Codec>> = {
  msgpack: { format: 'msgpack', binary: true, encode: encodeMsgpack, parse: parseMsgpack },
  json: {
    format: 'json',
    binary: false,
    encode: (frame) => utf8Encoder.encode(JSON.stringify(frame)),
    parse: parseJson,
  },
};
