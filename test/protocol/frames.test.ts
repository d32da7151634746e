import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ClientFrame,
  type Codec,
  ConnectResult,
  Data,
  decodeClientFrame,
  decodeServerFrame,
  jsonCodec,
  msgpackCodec,
  PublishResult,
  RequestId,
  ServerFrame,
  SubscribeResult,
} from '@switchboard/protocol';
import fc from 'fast-check';
import { CHANNEL_ALPHABET, channel, clientFrame, expectedId, MAX_U32, serverFrame } from './arbitraries.js';

const both: readonly Codec[] = [msgpackCodec, jsonCodec];
const COMMANDS = ['connect', 'sub', 'unsub', 'pub', 'refresh', 'ping'];

type Frame = Record<string, unknown>;
/** A change that makes a valid frame invalid; `id` says whether it leaves the frame's id usable. */
interface Corruption {
  readonly label: string;
  readonly keepsId: boolean;
  apply(frame: Frame): Frame;
}
const set = (key: string, value: unknown, keepsId = key !== 'id'): Corruption => ({
  label: `${key} = ${typeof value === 'string' && value.length > 20 ? `${value.length} chars` : JSON.stringify(value)}`,
  keepsId,
  apply: (frame) => ({ ...frame, [key]: value }),
});
const remove = (key: string): Corruption => ({
  label: `without ${key}`,
  keepsId: key !== 'id',
  apply: (frame) => {
    const { [key]: _, ...rest } = frame;
    return rest;
  },
});

const outsideAlphabet = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 1 })
  .filter((c) => !CHANNEL_ALPHABET.includes(c));
/** Values that are not valid channels: empty, too long, a foreign character, not a string. */
const badChannel: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(''),
  fc.string({ unit: fc.constantFrom(...CHANNEL_ALPHABET), minLength: 256, maxLength: 400 }),
  fc.tuple(channel, outsideAlphabet, fc.nat()).map(([ch, c, at]) => {
    const i = at % (ch.length + 1);
    return (ch.slice(0, i) + c + ch.slice(i)).slice(0, 255);
  }),
  fc.oneof(fc.integer(), fc.constant(null), fc.boolean(), fc.constant(['a'])),
);
const badId: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, -1, MAX_U32 + 1, 2 ** 53, 1.5, -0.5),
  fc.integer({ max: 0 }),
  fc.integer({ min: MAX_U32 + 1, max: Number.MAX_SAFE_INTEGER }),
  fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }),
  fc.oneof(fc.string(), fc.constant(null), fc.boolean(), fc.constant([1])),
);
const badToken: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(''),
  fc.constant('x'.repeat(16_385)),
  fc.integer(),
  fc.constant(null),
);
const longText = fc.string({ minLength: 65, maxLength: 80 });
const badPosition: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant({ ep: '', off: 0 }),
  fc.constant({ ep: 'x'.repeat(65), off: 0 }),
  fc.constant({ ep: 'e', off: -1 }),
  fc.constant({ ep: 'e', off: 1.5 }),
  fc.constant({ ep: 'e', off: 2 ** 53 }),
  fc.constant({ ep: 'e' }),
  fc.constant({ off: 1 }),
  fc.constant({ ep: 7, off: 1 }),
  fc.constant('e:1'),
  fc.constant(null),
);
const unknownType = fc.oneof(
  fc.string().filter((t) => !COMMANDS.includes(t)),
  fc.constantFrom('PING', 'Sub', 'ok', 'msg', ' ping'),
  fc.oneof(fc.integer(), fc.constant(null)),
);

function corruptionsFor(type: string): fc.Arbitrary<Corruption> {
  const common = [
    unknownType.map((t) => set('t', t)),
    badId.map((id) => set('id', id)),
    fc.constant(remove('id')),
    fc.constant(remove('t')),
  ];
  const specific: Record<string, fc.Arbitrary<Corruption>[]> = {
    connect: [
      badToken.filter((t) => t !== null).map((t) => set('token', t)),
      longText.map((s) => set('name', s)),
      longText.map((s) => set('version', s)),
      fc.constant(set('name', 42)),
      fc.constant(set('token', null)),
    ],
    sub: [badChannel.map((c) => set('ch', c)), fc.constant(remove('ch')), badPosition.map((p) => set('since', p))],
    unsub: [badChannel.map((c) => set('ch', c)), fc.constant(remove('ch'))],
    pub: [badChannel.map((c) => set('ch', c)), fc.constant(remove('ch')), fc.constant(remove('d'))],
    refresh: [badToken.map((t) => set('token', t)), fc.constant(remove('token'))],
    ping: [],
  };
  return fc.oneof(...common, ...(specific[type] ?? []));
}

const corrupted = clientFrame.chain((frame) =>
  fc.tuple(fc.constant(frame as unknown as Frame), corruptionsFor(frame.t)),
);

describe('invalid client frames', () => {
  for (const codec of both) {
    it(`${codec.format}: are 'invalid', with the frame's id when it is still usable`, () => {
      fc.assert(
        fc.property(corrupted, ([frame, corruption]) => {
          const bad = corruption.apply(frame);
          const bytes = codec.encode(bad);
          const result = decodeClientFrame(codec, bytes);
          assert.equal(result.kind, 'invalid', `${corruption.label} in ${JSON.stringify(frame).slice(0, 200)}`);
          if (result.kind !== 'invalid') return;
          const id = corruption.keepsId ? frame.id : expectedId(codec.parse(bytes));
          assert.equal(result.id, id, corruption.label);
          if (!corruption.keepsId) assert.equal(result.id, 0);
          assert.ok(result.reason.length > 0);
        }),
        { numRuns: 1500 },
      );
    });
  }

  it('non-objects are invalid with id 0', () => {
    for (const codec of both) {
      for (const value of [null, 1, 'ping', true, [], [{ t: 'ping', id: 1 }], {}]) {
        const result = decodeClientFrame(codec, codec.encode(value as object));
        assert.deepStrictEqual(result.kind === 'invalid' && result.id, 0, JSON.stringify(value));
      }
    }
  });

  it('reasons name the offending key', () => {
    const reason = (frame: object) => {
      const result = decodeClientFrame(jsonCodec, jsonCodec.encode(frame));
      return result.kind === 'invalid' ? result.reason : result.kind;
    };
    assert.equal(reason({ t: 'sub', id: 1, ch: 'a b' }), 'ch: invalid channel name');
    assert.match(reason({ t: 'sub', id: 1, ch: 'a'.repeat(256) }), /^ch: Too big/);
    assert.match(reason({ t: 'ping', id: MAX_U32 + 1 }), /^id: Too big/);
    assert.match(reason({ t: 'nope', id: 1 }), /^t: /);
    assert.match(reason({ t: 'pub', id: 1, ch: 'a' }), /^d: /);
    assert.match(reason({ t: 'sub', id: 1, ch: 'a', since: { ep: 'e', off: -1 } }), /^since\.off: /);
  });
});

describe('frame bounds', () => {
  const verdict = (codec: Codec, frame: object) => decodeClientFrame(codec, codec.encode(frame)).kind;
  const cases: Array<[string, object, 'frame' | 'invalid']> = [
    ['id 1', { t: 'ping', id: 1 }, 'frame'],
    ['id 2^32-1', { t: 'ping', id: MAX_U32 }, 'frame'],
    ['id 0', { t: 'ping', id: 0 }, 'invalid'],
    ['id 2^32', { t: 'ping', id: MAX_U32 + 1 }, 'invalid'],
    ['channel of 255', { t: 'unsub', id: 1, ch: 'c'.repeat(255) }, 'frame'],
    ['channel of 256', { t: 'unsub', id: 1, ch: 'c'.repeat(256) }, 'invalid'],
    ['empty channel', { t: 'unsub', id: 1, ch: '' }, 'invalid'],
    ['epoch of 64', { t: 'sub', id: 1, ch: 'c', since: { ep: 'e'.repeat(64), off: 0 } }, 'frame'],
    ['epoch of 65', { t: 'sub', id: 1, ch: 'c', since: { ep: 'e'.repeat(65), off: 0 } }, 'invalid'],
    ['empty epoch', { t: 'sub', id: 1, ch: 'c', since: { ep: '', off: 0 } }, 'invalid'],
    ['offset 2^53-1', { t: 'sub', id: 1, ch: 'c', since: { ep: 'e', off: Number.MAX_SAFE_INTEGER } }, 'frame'],
    ['offset -1', { t: 'sub', id: 1, ch: 'c', since: { ep: 'e', off: -1 } }, 'invalid'],
    ['since null', { t: 'sub', id: 1, ch: 'c', since: null }, 'invalid'],
    ['token of 16384', { t: 'refresh', id: 1, token: 't'.repeat(16_384) }, 'frame'],
    ['token of 16385', { t: 'refresh', id: 1, token: 't'.repeat(16_385) }, 'invalid'],
    ['empty token', { t: 'connect', id: 1, token: '' }, 'invalid'],
    ['name of 64', { t: 'connect', id: 1, name: 'n'.repeat(64), version: 'v'.repeat(64) }, 'frame'],
    ['name of 65', { t: 'connect', id: 1, name: 'n'.repeat(65) }, 'invalid'],
    ['version of 65', { t: 'connect', id: 1, version: 'v'.repeat(65) }, 'invalid'],
    ['pub with null data', { t: 'pub', id: 1, ch: 'c', d: null }, 'frame'],
  ];
  for (const codec of both) {
    it(`${codec.format}: limits are enforced at their exact bounds`, () => {
      for (const [label, frame, expected] of cases) assert.equal(verdict(codec, frame), expected, label);
    });
  }

  it('server frames: ok needs a request id, err may use 0, counts are non-negative', () => {
    const verdicts: Array<[object, string]> = [
      [{ t: 'ok', id: 0 }, 'invalid'],
      [{ t: 'ok', id: 1 }, 'frame'],
      [{ t: 'err', id: 0, code: 107, msg: 'x' }, 'frame'],
      [{ t: 'err', id: -1, code: 107, msg: 'x' }, 'invalid'],
      [{ t: 'err', id: MAX_U32 + 1, code: 107, msg: 'x' }, 'invalid'],
      [{ t: 'err', id: 1, code: 107 }, 'invalid'],
      [{ t: 'msg', ch: 'c', off: -1, d: 1 }, 'invalid'],
      [{ t: 'msg', ch: 'c', off: 0 }, 'invalid'], // d is required, even if null
      [{ t: 'msg', ch: 'c', d: 1 }, 'frame'], // live-only: no offset
      [{ t: 'msg', ch: 'c', off: 1, d: 1 }, 'frame'], // the epoch is the subscription's
      [['c', -1, 1], 'invalid'], // the wire form: [ch, off, d]
      [['c', 1, 1], 'frame'],
      [['c', 1], 'frame'], // [ch, d]: live-only
      [['c', 1, 2, 3], 'invalid'],
      [{ t: 'unsubd', ch: 'c', code: 103, msg: 'revoked' }, 'frame'],
      [{ t: 'drain', after: -1 }, 'invalid'],
      [{ t: 'drain', after: 0 }, 'frame'],
      [{ t: 'pong', id: 1 }, 'invalid'],
    ];
    for (const codec of both) {
      for (const [frame, expected] of verdicts) {
        assert.equal(decodeServerFrame(codec, codec.encode(frame)).kind, expected, JSON.stringify(frame));
      }
    }
  });
});

describe('schemas', () => {
  it('accept every generated frame', () => {
    fc.assert(
      fc.property(clientFrame, (frame) => assert.ok(ClientFrame.safeParse(frame).success)),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(serverFrame, (frame) => assert.ok(ServerFrame.safeParse(frame).success)),
      { numRuns: 300 },
    );
  });

  it('drop unknown keys (forward compatibility), in both directions', () => {
    for (const codec of both) {
      assert.deepStrictEqual(decodeClientFrame(codec, codec.encode({ t: 'ping', id: 3, future: [1] })), {
        kind: 'frame',
        frame: { t: 'ping', id: 3 },
      });
      assert.deepStrictEqual(decodeServerFrame(codec, codec.encode({ t: 'drain', after: 5, why: 'deploy' })), {
        kind: 'frame',
        frame: { t: 'drain', after: 5 },
      });
    }
  });

  it('RequestId is 1..2^32-1 integers', () => {
    fc.assert(
      fc.property(fc.double(), (n) => {
        assert.equal(RequestId.safeParse(n).success, Number.isInteger(n) && n >= 1 && n <= MAX_U32);
      }),
      { numRuns: 500 },
    );
  });

  it('Data is exactly the JSON value space', () => {
    for (const ok of [null, true, 0, -1.5, 'x', [], {}, { a: [1, { b: null }] }]) {
      assert.ok(Data.safeParse(ok).success, JSON.stringify(ok));
    }
    const refused: unknown[] = [
      undefined,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      new Date(0),
      new Uint8Array(1),
      new Map(),
      () => 1,
      1n,
      Symbol('s'),
      [undefined],
      { a: Number.NaN },
    ];
    for (const bad of refused) assert.equal(Data.safeParse(bad).success, false, String(bad));
  });

  it('results parse as documented in protocol/README.md', () => {
    const connect = { client: 'f435677a-77c7-43c0-a60f-39a1ded5ae92', v: 1, ping: 25, maxFrame: 65_536 };
    assert.ok(ConnectResult.safeParse(connect).success);
    assert.ok(ConnectResult.safeParse({ ...connect, exp: 1_767_225_600_000 }).success);
    assert.equal(ConnectResult.safeParse({ ...connect, ping: 0 }).success, false);
    assert.equal(ConnectResult.safeParse({ client: 'c', v: 1, ping: 25 }).success, false, 'maxFrame is required');
    assert.ok(SubscribeResult.safeParse({ ep: 'Ab3xY9kQ', off: 0 }).success);
    assert.ok(SubscribeResult.safeParse({ ep: 'Ab3xY9kQ', off: 3, rec: false, why: 'trimmed' }).success);
    assert.equal(SubscribeResult.safeParse({ ep: 'e', off: -1 }).success, false);
    assert.ok(PublishResult.safeParse({ ep: 'Ab3xY9kQ', off: 1 }).success);
    assert.ok(PublishResult.safeParse({}).success);
  });
});
