/**
 * fast-check arbitraries for protocol v1, built from the constraints of the zod schemas in
 * protocol/src/frames.ts and the grammar in protocol/src/channel.ts.
 */
import type { ClientFrame, Position, ServerFrame } from '@switchboard/protocol';
import { ErrorCode } from '@switchboard/protocol';
import fc from 'fast-check';

/** The channel alphabet, spelled out independently of the implementation's regex. */
export const CHANNEL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.:@=/,';
export const MAX_U32 = 0xffffffff;

const channelChar = fc.constantFrom(...CHANNEL_ALPHABET);
const namespaceChar = fc.constantFrom(...CHANNEL_ALPHABET.replace(':', ''));

/** Any valid channel: mostly short ones, some up to the 255-character limit, some `ns:rest`. */
export const channel: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: channelChar, minLength: 1, maxLength: 255 }) },
  { weight: 1, arbitrary: fc.string({ unit: channelChar, minLength: 1, maxLength: 255, size: 'max' }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.string({ unit: namespaceChar, maxLength: 20 }), fc.string({ unit: channelChar, maxLength: 40 }))
      .map(([ns, rest]) => `${ns}:${rest}`),
  },
);

/** Request ids 1..2^32-1, with the bounds drawn often. */
export const requestId: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: 1, max: MAX_U32 }),
  fc.constantFrom(1, 2, 127, 128, 255, 256, 65_535, 65_536, MAX_U32),
);

/** Well-formed strings (no lone surrogates: see the quirk test in codec.test.ts). */
export const text = (maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(fc.string({ maxLength }), fc.string({ unit: 'binary', maxLength: Math.floor(maxLength / 2) }));

/** Epochs: 1..64 UTF-16 code units. The memory broker makes 8-character base64url ones. */
export const epoch: fc.Arbitrary<string> = fc.oneof(
  fc.base64String({ minLength: 8, maxLength: 8 }),
  fc.string({ minLength: 1, maxLength: 64 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 32 }),
);

export const offset: fc.Arbitrary<number> = fc.oneof(
  fc.nat(),
  fc.maxSafeNat(),
  fc.constantFrom(0, 1, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER),
);

export const position: fc.Arbitrary<Position> = fc.record({ ep: epoch, off: offset }, { noNullPrototype: true });

/**
 * JSON values without the two things JSON itself cannot carry through a round trip: `-0`
 * (serialized as `0`) and own `__proto__` keys (see the quirk tests).
 */
export const jsonData: fc.Arbitrary<unknown> = fc
  .jsonValue({
    maxDepth: 4,
    stringUnit: fc.oneof(
      fc.constantFrom('a', 'b', '1', '_'),
      // Lone surrogates are not publishable data (no UTF-8 form); hostile-data tests cover them.
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => c.isWellFormed()),
    ),
  })
  .map(normalizeJson);

function normalizeJson(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(normalizeJson);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (key !== '__proto__') out[key] = normalizeJson(item);
    }
    return out;
  }
  return value;
}

const token = fc.oneof(fc.string({ minLength: 1, maxLength: 200 }), fc.base64String({ minLength: 4, maxLength: 400 }));

export const connectRequest = fc.record(
  { t: fc.constant('connect' as const), id: requestId, token, name: text(64), version: text(64) },
  { requiredKeys: ['t', 'id'], noNullPrototype: true },
);
export const subscribeRequest = fc.record(
  { t: fc.constant('sub' as const), id: requestId, ch: channel, since: position },
  { requiredKeys: ['t', 'id', 'ch'], noNullPrototype: true },
);
export const unsubscribeRequest = fc.record(
  { t: fc.constant('unsub' as const), id: requestId, ch: channel },
  { noNullPrototype: true },
);
/** An idempotency key: 1..64 printable ASCII characters. */
const idempotencyKey = fc.string({ unit: fc.constantFrom(...'abcXYZ019-_.:!~'), minLength: 1, maxLength: 64 });
export const publishRequest = fc.record(
  { t: fc.constant('pub' as const), id: requestId, ch: channel, d: jsonData, key: idempotencyKey },
  { requiredKeys: ['t', 'id', 'ch', 'd'], noNullPrototype: true },
);
const method = fc.string({ unit: channelChar, minLength: 1, maxLength: 128 });
export const rpcRequest = fc.record(
  { t: fc.constant('rpc' as const), id: requestId, method, d: jsonData },
  { noNullPrototype: true },
);
export const refreshRequest = fc.record(
  { t: fc.constant('refresh' as const), id: requestId, token },
  { noNullPrototype: true },
);
export const pingRequest = fc.record({ t: fc.constant('ping' as const), id: requestId }, { noNullPrototype: true });

export const clientFrame: fc.Arbitrary<ClientFrame> = fc.oneof(
  connectRequest,
  subscribeRequest,
  unsubscribeRequest,
  publishRequest,
  refreshRequest,
  pingRequest,
  rpcRequest,
) as fc.Arbitrary<ClientFrame>;

const errorCode = fc.oneof(fc.constantFrom(...Object.values(ErrorCode)), fc.integer());

const connectResult = fc.record(
  {
    client: fc.uuid(),
    v: fc.constant(1),
    ping: fc.integer({ min: 1, max: 3600 }),
    maxFrame: fc.integer({ min: 1, max: 2 ** 31 }),
    exp: fc.maxSafeNat(),
  },
  { requiredKeys: ['client', 'v', 'ping', 'maxFrame'], noNullPrototype: true },
);
const subscribeResult = fc.record(
  {
    ep: epoch,
    off: offset,
    rec: fc.boolean(),
    why: fc.constantFrom('epoch_changed', 'trimmed', 'too_many_missed', 'ahead_of_stream', 'unsupported'),
  },
  { requiredKeys: ['ep', 'off'], noNullPrototype: true },
);
const publishResult = fc.record({ ep: epoch, off: offset }, { requiredKeys: [], noNullPrototype: true });

export const okReply = fc.record(
  {
    t: fc.constant('ok' as const),
    id: requestId,
    r: fc.oneof(connectResult, subscribeResult, publishResult, jsonData),
  },
  { requiredKeys: ['t', 'id'], noNullPrototype: true },
);
export const errorReply = fc.record(
  {
    t: fc.constant('err' as const),
    id: fc.oneof(fc.constant(0), requestId),
    code: errorCode,
    msg: text(80),
    tmp: fc.boolean(),
    svc: text(40),
  },
  { requiredKeys: ['t', 'id', 'code', 'msg'], noNullPrototype: true },
);
/** Positioned pushes, and live-only ones (no `ep`/`off`, e.g. from a raw Redis PUBLISH). */
export const publicationPush = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record(
      { t: fc.constant('msg' as const), ch: channel, off: offset, d: jsonData },
      { noNullPrototype: true },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('msg' as const), ch: channel, d: jsonData }, { noNullPrototype: true }),
  },
);
/** A publication's position, or none for a live-only one. */
export const maybePosition: fc.Arbitrary<Position | undefined> = fc.option(position, { nil: undefined, freq: 4 });
export const unsubscribedPush = fc.record(
  {
    t: fc.constant('unsubd' as const),
    ch: channel,
    code: errorCode,
    msg: text(80),
  },
  { noNullPrototype: true },
);
export const drainPush = fc.record(
  { t: fc.constant('drain' as const), after: fc.oneof(fc.nat(), fc.maxSafeNat()) },
  { noNullPrototype: true },
);

const lostPush = fc.record(
  {
    t: fc.constant('lost' as const),
    ch: channel,
    ep: epoch,
    off: offset,
    why: fc.constantFrom('epoch_changed', 'trimmed', 'too_many_missed'),
  },
  { noNullPrototype: true },
);

export const serverFrame: fc.Arbitrary<ServerFrame> = fc.oneof(
  okReply,
  errorReply,
  publicationPush,
  unsubscribedPush,
  drainPush,
  lostPush,
) as fc.Arbitrary<ServerFrame>;

/** The id a decoder must report for an invalid frame: the frame's own id when usable, else 0. */
export function expectedId(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const id = (value as { id?: unknown }).id;
  return typeof id === 'number' && Number.isInteger(id) && id >= 1 && id <= MAX_U32 ? id : 0;
}
