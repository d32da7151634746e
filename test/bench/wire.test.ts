/**
 * The load generator's push recognition (bench/lib/wire.ts) against the pushes the protocol
 * package encodes, as the hub sends them, and against any msgpack/JSON encoder's arrays.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  codecs,
  decodeClientFrame,
  encodeChannelName,
  encodeData,
  encodePublicationJson,
  encodePublicationMsgpack,
} from '@switchboard/protocol';
import { Packr } from 'msgpackr';
import { payloadText, pubTemplate, stampPayload, writeId } from '../../bench/lib/payload.js';
import { isOk, MALFORMED, NOT_PUSH, PUSH, type PushFields, readPush, type Wire, wireOf } from '../../bench/lib/wire.js';

const TIME = 123_456_789_012;
const SEQ = 4242;
const data = payloadText(TIME, SEQ);
const packr = new Packr({ useRecords: false, variableMapSize: true });
const utf8 = new TextEncoder();

function read(wire: Wire, frame: Uint8Array): { kind: number; fields: PushFields } {
  const fields: PushFields = { time: 0, seq: 0 };
  return { kind: readPush(wire, frame, 0, frame.length, fields), fields };
}

describe('bench push recognition', () => {
  const cases: Array<[string, Wire, Uint8Array]> = [
    ['hub msgpack', 'v2.msgpack', encodePublicationMsgpack(encodeChannelName('a:b'), 70_000, encodeData(data))],
    [
      'hub msgpack, live only',
      'v2.msgpack',
      encodePublicationMsgpack(encodeChannelName('a:b'), undefined, encodeData(data)),
    ],
    ['hub JSON', 'v2.json', encodePublicationJson('a:b', 7, JSON.stringify(data))],
    ['v2 msgpack', 'v2.msgpack', packr.pack(['a:b', 70_000, data])],
    ['v2 msgpack, live only', 'v2.msgpack', packr.pack(['a:b', data])],
    ['v2 JSON', 'v2.json', utf8.encode(JSON.stringify(['a:b', 7, data]))],
    ['v2 JSON, live only', 'v2.json', utf8.encode(JSON.stringify(['a:b', data]))],
  ];
  for (const [name, wire, frame] of cases) {
    it(`reads time and sequence from a ${name} push`, () => {
      const { kind, fields } = read(wire, frame);
      assert.equal(kind, PUSH);
      assert.deepEqual(fields, { time: TIME, seq: SEQ });
    });
  }

  it('tells replies from pushes', () => {
    for (const wire of ['v2.msgpack'] as const) {
      const ok = packr.pack({ t: 'ok', id: 3 });
      assert.equal(read(wire, ok).kind, NOT_PUSH);
      assert.ok(isOk(wire, ok, 0));
      assert.ok(!isOk(wire, packr.pack({ t: 'err', id: 3, code: 1, msg: 'x' }), 0));
    }
    for (const wire of ['v2.json'] as const) {
      const ok = utf8.encode(JSON.stringify({ t: 'ok', id: 3 }));
      assert.equal(read(wire, ok).kind, NOT_PUSH);
      assert.ok(isOk(wire, ok, 0));
    }
  });

  it('counts a push without the benchmark payload as malformed', () => {
    const frame = encodePublicationMsgpack(encodeChannelName('a:b'), 1, encodeData({ other: true }));
    assert.equal(read('v2.msgpack', frame).kind, MALFORMED);
  });

  it('keys recognition by the subprotocol the server chose', () => {
    assert.equal(wireOf('switchboard.v2.json'), 'v2.json');
    assert.equal(wireOf(''), 'v2.msgpack');
  });
});

describe('bench pub templates', () => {
  for (const format of ['msgpack', 'json'] as const) {
    it(`patch the id and stamp the payload into a valid ${format} pub frame`, () => {
      const t = pubTemplate('a:b', format);
      const frame = Buffer.from(t.bytes);
      writeId(frame, t.idAt, t.idDigits, format === 'json' ? 3_000_000_007 : 77);
      stampPayload(frame, frame.length - t.dataEndFromEnd, TIME, SEQ);
      const decoded = decodeClientFrame(codecs[format], frame);
      assert.equal(decoded.kind, 'frame');
      assert.deepEqual(decoded.kind === 'frame' && decoded.frame, {
        t: 'pub',
        id: format === 'json' ? 3_000_000_007 : 77,
        ch: 'a:b',
        d: data,
      });
    });
  }
});
