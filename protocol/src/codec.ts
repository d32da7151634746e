import { Packr } from 'msgpackr/pack';
import type { z } from 'zod';
import { ClientFrame, ServerFrame } from './frames.js';
import { parseJson, parseMsgpack, UnparseableError } from './parse.js';
import { fromWire } from './push.js';
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
const utf8Encoder = new TextEncoder();

export const msgpackCodec: Codec = {
  format: 'msgpack',
  binary: true,
  encode: (frame) => packr.pack(frame),
  parse: parseMsgpack,
};

export const jsonCodec: Codec = {
  format: 'json',
  binary: false,
  encode: (frame) => utf8Encoder.encode(JSON.stringify(frame)),
  parse: parseJson,
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

/** Hub → client frames: a publication push travels as an array (protocol §3.3) and decodes to its object form. */
export function decodeServerFrame(codec: Codec, bytes: Uint8Array): Decoded<ServerFrame> {
  return decodeWith(ServerFrame, { ...codec, parse: (input) => fromWire(codec.parse(input)) }, bytes);
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
  return parseMsgpack(bytes);
}
