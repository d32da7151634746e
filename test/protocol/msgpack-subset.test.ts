import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codecs, encodeData, MAX_WIRE_DEPTH, msgpackSubsetProblem } from '@switchboard/protocol';
import fc from 'fast-check';
import { amplifiedString, pubFrame, referenceDag } from '../support/hostile-msgpack.js';

const bytes = (...values: number[]) => Uint8Array.from(values);

describe('the msgpack subset of protocol v1', () => {
  it('accepts every JSON value encoded by the codec, and every frame the codec makes', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        assert.equal(msgpackSubsetProblem(encodeData(value)), undefined);
        assert.equal(msgpackSubsetProblem(codecs.msgpack.encode({ t: 'pub', id: 1, ch: 'c', d: value })), undefined);
      }),
    );
  });

  it('refuses every extension type, in each of its seven encodings', () => {
    const forms = [
      [0xd4, 0x01, 0x00],
      [0xd5, 0x01, 0, 0],
      [0xd6, 0x69, 0, 0, 0, 1],
      [0xd7, 0xff, 0, 0, 0, 0, 0, 0, 0, 0],
      [0xd8, 0x01, ...new Array(16).fill(0)],
      [0xc7, 1, 0x72, 0],
      [0xc8, 0, 1, 0x70, 0],
      [0xc9, 0, 0, 0, 1, 0x42, 0],
    ];
    for (const form of forms) {
      assert.equal(msgpackSubsetProblem(bytes(...form)), 'msgpack extension types are not part of the protocol');
    }
    assert.match(msgpackSubsetProblem(pubFrame(1, 'c', referenceDag(26))) ?? '', /extension/);
    assert.match(msgpackSubsetProblem(pubFrame(1, 'c', amplifiedString(2_000, 8_000))) ?? '', /extension/);
  });

  it('refuses binary values, the unused byte 0xc1, and keys that are not strings', () => {
    assert.match(msgpackSubsetProblem(bytes(0xc4, 1, 0)) ?? '', /binary/);
    assert.match(msgpackSubsetProblem(bytes(0xc1)) ?? '', /0xc1/);
    assert.equal(msgpackSubsetProblem(bytes(0x81, 0x01, 0x02)), 'map keys must be strings');
    assert.equal(msgpackSubsetProblem(bytes(0x81, 0x90, 0x02)), 'map keys must be strings');
    assert.equal(msgpackSubsetProblem(bytes(0x81, 0xa1, 0x61, 0x02)), undefined);
  });

  it('requires exactly one whole value', () => {
    assert.equal(msgpackSubsetProblem(bytes()), 'truncated msgpack');
    assert.equal(msgpackSubsetProblem(bytes(0x92, 0x01)), 'truncated msgpack');
    assert.equal(msgpackSubsetProblem(bytes(0xa5, 0x61)), 'truncated msgpack');
    assert.equal(msgpackSubsetProblem(bytes(0xdd, 0xff, 0xff, 0xff, 0xff, 0x01)), 'truncated msgpack');
    assert.equal(msgpackSubsetProblem(bytes(0x01, 0x02)), 'bytes after the end of the msgpack value');
    assert.equal(
      msgpackSubsetProblem(pubFrame(1, 'c', encodeData([1, 2]), [0xc0])),
      'bytes after the end of the msgpack value',
    );
  });

  it(`refuses nesting deeper than ${MAX_WIRE_DEPTH} levels without recursing`, () => {
    const deep = (levels: number) => new Uint8Array(levels).fill(0x91, 0, levels - 1).fill(0x90, levels - 1);
    assert.equal(msgpackSubsetProblem(deep(MAX_WIRE_DEPTH)), undefined);
    assert.equal(msgpackSubsetProblem(deep(MAX_WIRE_DEPTH + 1)), `nested deeper than ${MAX_WIRE_DEPTH} levels`);
    assert.equal(msgpackSubsetProblem(deep(1_000_000)), `nested deeper than ${MAX_WIRE_DEPTH} levels`);
  });

  it('never quotes the input in its reasons', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (input) => {
        const problem = msgpackSubsetProblem(input);
        if (problem === undefined) return;
        assert.match(problem, /^[a-z0-9 ]+$/, 'a fixed text');
      }),
    );
  });
});
