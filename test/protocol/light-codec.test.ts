import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeClientFrame, encodeMsgpack, jsonCodec, lightCodecs, msgpackCodec } from '@switchboard/protocol';
import fc from 'fast-check';
import { referenceDag } from '../support/hostile-msgpack.js';
import { clientFrame, jsonData, serverFrame } from './arbitraries.js';
import { standardMsgpackProblem } from './strict-msgpack.js';

const light = lightCodecs.msgpack;

describe('the light codecs clients carry (lightCodecs)', () => {
  it('msgpack: every client frame they write is standard msgpack the hub decodes to the same frame', () => {
    fc.assert(
      fc.property(clientFrame, (frame) => {
        const bytes = light.encode(frame);
        assert.equal(standardMsgpackProblem(bytes), undefined);
        assert.deepStrictEqual(decodeClientFrame(msgpackCodec, bytes), { kind: 'frame', frame });
      }),
      { numRuns: 2000 },
    );
  });

  it('msgpack: numbers, booleans, nil, arrays and maps are the very bytes of the hub’s encoder', () => {
    const shortKeys = fc.dictionary(
      fc.constantFrom('a', 'b', 'off'),
      fc.oneof(fc.double(), fc.integer(), fc.boolean()),
    );
    const numbers = fc.oneof(
      fc.double(),
      fc.integer(),
      fc.maxSafeInteger(),
      fc.constantFrom(-0, 2 ** 32, -(2 ** 31) - 1),
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(numbers, fc.boolean(), fc.constant(null), shortKeys), { maxLength: 40 }), (value) =>
        assert.deepStrictEqual(Buffer.from(light.encode(value)), Buffer.from(msgpackCodec.encode(value))),
      ),
      { numRuns: 2000 },
    );
  });

  it('msgpack: reads every hub frame as the hub’s codec reads it', () => {
    fc.assert(
      fc.property(serverFrame, (frame) => {
        const bytes = msgpackCodec.encode(frame);
        assert.deepStrictEqual(light.parse(bytes), msgpackCodec.parse(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('msgpack: refuses what the protocol’s subset leaves out before decoding it', () => {
    const refused = [
      [0x81, 0xa1, 0x64, 0xc4, 0x01, 0x00], // bin 8
      [0x81, 0xa1, 0x64, 0xd6, 0xff, 0, 0, 0, 1], // timestamp
      [0x81, 0x01, 0x02], // a key that is not a string
      [0x01, 0x02], // bytes after the value
    ];
    for (const bytes of refused) assert.throws(() => light.parse(Uint8Array.from(bytes)), bytes.join(' '));
    assert.throws(() => light.parse(referenceDag(30)), /extension types are not part of the protocol/);
  });

  it('msgpack: writes data as JSON.stringify reads it', () => {
    const value = {
      kept: 1,
      gone: undefined,
      fn: () => 1,
      list: [undefined, () => 1, 2],
      at: new Date(0),
      custom: { toJSON: () => 'custom' },
    };
    assert.deepStrictEqual(msgpackCodec.parse(encodeMsgpack(value)), JSON.parse(JSON.stringify(value)));
  });

  it('msgpack: refuses a BigInt, a cycle and nesting past the wire limit', () => {
    assert.throws(() => encodeMsgpack({ n: 1n }), TypeError);
    const cycle: unknown[] = [];
    cycle.push(cycle);
    assert.throws(() => encodeMsgpack(cycle), /nested deeper than 1000 levels/);
  });

  it('msgpack: strings and containers take the header their length needs', () => {
    for (const length of [0, 31, 32, 255, 256, 65_535, 65_536]) {
      const text = 'x'.repeat(length);
      assert.equal(light.parse(encodeMsgpack(text)), text);
      const list = Array.from({ length: Math.min(length, 70_000) }, () => 0);
      assert.deepStrictEqual(light.parse(light.encode(list)), list);
    }
    assert.equal(light.parse(encodeMsgpack('é'.repeat(20))), 'é'.repeat(20));
  });

  it('json: writes and reads exactly as the hub’s JSON codec', () => {
    fc.assert(
      fc.property(jsonData, (d) => {
        const bytes = jsonCodec.encode({ t: 'pub', id: 1, ch: 'a', d });
        assert.deepStrictEqual(lightCodecs.json.encode({ t: 'pub', id: 1, ch: 'a', d }), bytes);
        assert.deepStrictEqual(lightCodecs.json.parse(bytes), jsonCodec.parse(bytes));
      }),
    );
    assert.throws(() => lightCodecs.json.parse(Uint8Array.from([0x7b, 0xff, 0x7d])), /not valid UTF-8/);
  });
});
