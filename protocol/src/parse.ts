import { Unpackr } from 'msgpackr/unpack';
import { msgpackSubsetProblem } from './msgpack-subset.js';

/**
 * Bytes to one untyped value, for both ends (the hub's codecs and the client's light ones): the
 * only place a wire format is parsed. Failures carry fixed texts, never a copy of the input —
 * JSON.parse and msgpackr quote what they read in their messages.
 */

/** A parse failure whose message is fixed text. */
export class UnparseableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnparseableError';
  }
}

/**
 * Decoding only ever sees bytes that msgpackSubsetProblem let through, so none of msgpackr's
 * extensions can be reached; its own switches are set off as well, in case a later version starts
 * to honour them before the extension table. msgpackr/unpack is msgpackr's decoder alone (5.6 kB
 * gzipped in a browser bundle).
 */
const unpackr = new Unpackr({
  useRecords: false,
  structuredClone: false,
  moreTypes: false,
  mapsAsObjects: true,
  int64AsType: 'number',
  bundleStrings: false,
  sequential: false,
});
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** One value of the protocol's msgpack subset, refusing everything else before decoding. */
export function parseMsgpack(bytes: Uint8Array): unknown {
  const problem = msgpackSubsetProblem(bytes);
  if (problem) throw new UnparseableError(problem);
  try {
    return unpackr.unpack(bytes);
  } catch {
    throw new UnparseableError('malformed msgpack');
  }
}

/** One JSON value in UTF-8. */
export function parseJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8Decoder.decode(bytes);
  } catch {
    throw new UnparseableError('not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UnparseableError('not valid JSON');
  }
}
