import { Packr, Unpackr } from 'msgpackr';
import type { z } from 'zod';
import { ClientFrame, type Position, ServerFrame } from './frames.js';
import { msgpackSubsetProblem } from './msgpack-subset.js';
import type { WireFormat } from './version.js';

/**
 * The only place where raw bytes become frames and frames become bytes. Hub and SDK use the
 * same codecs, so the two ends cannot drift apart.
 */
export interface Codec {
  readonly format: WireFormat;
  /** Whether frames travel as binary (msgpack) or text (JSON) WebSocket messages. */
  readonly binary: boolean;
  encode(frame: object): Uint8Array;
  /**
   * Parses bytes into an untyped value; throws on bytes that are not one value of this format's
   * protocol subset. The error's message is a fixed text, never a copy of the input.
   */
  parse(bytes: Uint8Array): unknown;
}

/** Standard msgpack (no msgpackr records or extensions) so that any msgpack decoder reads it. */
// `skipValues` is honoured by msgpackr 2 but missing from its typings.
const packr = new Packr({
  useRecords: false,
  moreTypes: false,
  variableMapSize: true,
  int64AsType: 'number',
  mapsAsObjects: true,
  // Without this, undefined values become a msgpackr-only extension other decoders cannot read.
  skipValues: [undefined],
} as ConstructorParameters<typeof Packr>[0]);
/**
 * Decoding only ever sees bytes that msgpackSubsetProblem let through, so none of msgpackr's
 * extensions can be reached; its own switches are set off as well, in case a later version
 * starts to honour them before the extension table.
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
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** A parse failure whose message is fixed text (messages of JSON.parse and msgpackr quote the input). */
export class UnparseableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnparseableError';
  }
}

/** Decodes one value of the protocol's msgpack subset, refusing everything else before decoding. */
function unpackSubset(bytes: Uint8Array): unknown {
  const problem = msgpackSubsetProblem(bytes);
  if (problem) throw new UnparseableError(problem);
  try {
    return unpackr.unpack(bytes);
  } catch {
    throw new UnparseableError('malformed msgpack');
  }
}

export const msgpackCodec: Codec = {
  format: 'msgpack',
  binary: true,
  encode: (frame) => packr.pack(frame),
  parse: unpackSubset,
};

export const jsonCodec: Codec = {
  format: 'json',
  binary: false,
  encode: (frame) => utf8Encoder.encode(JSON.stringify(frame)),
  parse: (bytes) => {
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
  },
};

export const codecs: Readonly<Record<WireFormat, Codec>> = { msgpack: msgpackCodec, json: jsonCodec };

export type Decoded<T> =
  | { readonly kind: 'frame'; readonly frame: T }
  /** Parsed, but not a valid frame: answer with an error reply to `id` (0 when unknown). */
  | { readonly kind: 'invalid'; readonly id: number; readonly reason: string }
  /** Not even one value of the wire format: the stream can no longer be trusted. */
  | { readonly kind: 'unparseable'; readonly reason: string };

function decodeWith<S extends z.ZodType>(schema: S, codec: Codec, bytes: Uint8Array): Decoded<z.infer<S>> {
  let value: unknown;
  try {
    value = codec.parse(bytes);
  } catch (error) {
    return { kind: 'unparseable', reason: error instanceof UnparseableError ? error.message : 'unparseable frame' };
  }
  let result: z.ZodSafeParseResult<z.infer<S>>;
  try {
    result = schema.safeParse(value);
  } catch {
    // Defence in depth: no input may make a decoder throw into the transport's callback.
    return { kind: 'invalid', id: requestIdOf(value), reason: 'frame could not be validated' };
  }
  if (result.success) return { kind: 'frame', frame: result.data };
  return { kind: 'invalid', id: requestIdOf(value), reason: describeIssues(result.error) };
}

export function decodeClientFrame(codec: Codec, bytes: Uint8Array): Decoded<ClientFrame> {
  return decodeWith(ClientFrame, codec, bytes);
}

export function decodeServerFrame(codec: Codec, bytes: Uint8Array): Decoded<ServerFrame> {
  return decodeWith(ServerFrame, codec, bytes);
}

function requestIdOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const id = (value as { id?: unknown }).id;
  return typeof id === 'number' && Number.isInteger(id) && id >= 1 && id <= 0xffffffff ? id : 0;
}

/** Longest reason an `err` reply carries; zod's messages name types and limits, never input values. */
const MAX_REASON_LENGTH = 200;

function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid frame';
  const path = issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
  return `${path}${issue.message}`.slice(0, MAX_REASON_LENGTH);
}

/** Publication data travels between hub components as msgpack bytes, encoded once at ingress. */
export function encodeData(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Data bytes the hub made itself with encodeData (or a broker carried); checked like any other msgpack. */
export function decodeData(bytes: Uint8Array): unknown {
  return unpackSubset(bytes);
}

const FIXMAP_0 = 0x80;
const DATA_KEY = packr.pack('d');

/**
 * Encodes a publication push around already-encoded data without decoding it: the msgpack
 * header map is widened by one entry and the data bytes are appended verbatim. Called once per
 * publication per wire format, never per subscriber. Without a position the push is live-only.
 */
export function encodePublicationMsgpack(
  channel: string,
  position: Position | undefined,
  data: Uint8Array,
): Uint8Array {
  const header = packr.pack(
    position ? { t: 'msg', ch: channel, ep: position.ep, off: position.off } : { t: 'msg', ch: channel },
  );
  const entries = position ? 4 : 2;
  if (header[0] !== FIXMAP_0 + entries) throw new Error('unexpected msgpack header layout');
  const frame = new Uint8Array(header.length + DATA_KEY.length + data.length);
  frame.set(header, 0);
  frame[0] = FIXMAP_0 + entries + 1;
  frame.set(DATA_KEY, header.length);
  frame.set(data, header.length + DATA_KEY.length);
  return frame;
}

/** The JSON flavour of the same push; `dataJson` is the data as JSON text, made once per publication. */
export function encodePublicationJson(channel: string, position: Position | undefined, dataJson: string): Uint8Array {
  const where = position ? `,"ep":${JSON.stringify(position.ep)},"off":${position.off}` : '';
  return utf8Encoder.encode(`{"t":"msg","ch":${JSON.stringify(channel)}${where},"d":${dataJson}}`);
}
