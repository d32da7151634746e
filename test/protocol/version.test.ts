import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { negotiateSubprotocol, PROTOCOL_VERSION, SUBPROTOCOLS, type WireFormat } from '@switchboard/protocol';
import fc from 'fast-check';

const MSGPACK = 'switchboard.v2.msgpack';
const JSON_ = 'switchboard.v2.json';

describe('version', () => {
  it('is protocol 2 with the two documented subprotocols', () => {
    assert.equal(PROTOCOL_VERSION, 2);
    assert.deepStrictEqual({ ...SUBPROTOCOLS }, { msgpack: MSGPACK, json: JSON_ });
  });
});

describe('negotiateSubprotocol', () => {
  it('picks the single offered protocol', () => {
    assert.equal(negotiateSubprotocol(MSGPACK), 'msgpack');
    assert.equal(negotiateSubprotocol(JSON_), 'json');
  });

  it('refuses a missing, empty or unknown offer', () => {
    for (const header of [
      '',
      ' ',
      ',',
      ', ,',
      'foo',
      'switchboard.v3.msgpack',
      'switchboard.v2',
      'switchboard.v1.msgpack',
      'switchboard.v1.json',
      'switchboard.v2.cbor',
    ]) {
      assert.equal(negotiateSubprotocol(header), undefined, JSON.stringify(header));
    }
  });

  it('matches names exactly: case, parameters and inner characters count', () => {
    for (const header of [
      'SWITCHBOARD.V2.MSGPACK',
      'Switchboard.v2.json',
      'switchboard.v2.msgpack;q=1',
      'switchboard.v2.json.',
      'xswitchboard.v2.json',
      '"switchboard.v2.json"',
      'switchboard.v2.msgpack switchboard.v2.json',
    ]) {
      assert.equal(negotiateSubprotocol(header), undefined, header);
    }
  });

  it('follows the client order and ignores whitespace around entries', () => {
    assert.equal(negotiateSubprotocol(`${JSON_}, ${MSGPACK}`), 'json');
    assert.equal(negotiateSubprotocol(`${MSGPACK},${JSON_}`), 'msgpack');
    assert.equal(negotiateSubprotocol(`foo, bar ,\t${JSON_}\t`), 'json');
    assert.equal(negotiateSubprotocol(`  ${MSGPACK}  `), 'msgpack');
  });

  it('returns the first of ours in any list of offers', () => {
    const unknown = fc
      .string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789.-_/'), maxLength: 24 })
      .filter((s) => s !== MSGPACK && s !== JSON_);
    const entry = fc.oneof(
      { weight: 3, arbitrary: unknown },
      { weight: 1, arbitrary: fc.constantFrom(MSGPACK, JSON_) },
    );
    const space = fc.string({ unit: fc.constantFrom(' ', '\t'), maxLength: 3 });
    fc.assert(
      fc.property(fc.array(fc.tuple(space, entry, space), { maxLength: 8 }), (entries) => {
        const header = entries.map(([before, name, after]) => before + name + after).join(',');
        const first = entries.map(([, name]) => name).find((name) => name === MSGPACK || name === JSON_);
        const expected: WireFormat | undefined = first === MSGPACK ? 'msgpack' : first === JSON_ ? 'json' : undefined;
        assert.equal(negotiateSubprotocol(header), expected, header);
      }),
      { numRuns: 1000 },
    );
  });
});
