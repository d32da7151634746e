import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  ClientFrame,
  type Codec,
  codecs,
  decodeClientFrame,
  decodeData,
  decodeServerFrame,
  encodeChannelName,
  encodeData,
  encodePublicationJson,
  encodePublicationMsgpack,
  jsonCodec,
  msgpackCodec,
  msgpackSubsetProblem,
  type Position,
  ServerFrame,
} from '@switchboard/protocol';
import fc from 'fast-check';
import {
  channel,
  clientFrame,
  expectedId,
  jsonData,
  MAX_U32,
  maybePosition,
  requestId,
  serverFrame,
} from './arbitraries.js';
import { hex, standardMsgpackProblem, unhex } from './strict-msgpack.js';

const both: readonly Codec[] = [msgpackCodec, jsonCodec];
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const mp = (value: unknown): number[] => [...msgpackCodec.encode(value as object)];
/** A msgpack `pub` frame on channel `a` whose data is the given raw bytes, written by hand. */
const msgpackPub = (id: number, ...data: number[]): Uint8Array =>
  Uint8Array.from([0x84, ...mp('t'), ...mp('pub'), ...mp('id'), id, ...mp('ch'), ...mp('a'), ...mp('d'), ...data]);

/** The contract of decodeClientFrame/decodeServerFrame, checked against the codec's own parse. */
function assertDecodeContract(codec: Codec, schema: typeof ClientFrame | typeof ServerFrame, bytes: Uint8Array): void {
  const decoded = schema === ClientFrame ? decodeClientFrame(codec, bytes) : decodeServerFrame(codec, bytes);
  let parsed: { ok: true; value: unknown } | { ok: false };
  try {
    parsed = { ok: true, value: codec.parse(bytes) };
  } catch {
    parsed = { ok: false };
  }
  if (!parsed.ok) {
    assert.equal(decoded.kind, 'unparseable');
    return;
  }
  if (decoded.kind === 'frame') {
    assert.ok(schema.safeParse(decoded.frame).success, 'a decoded frame is a valid frame');
  } else {
    assert.equal(decoded.kind, 'invalid', 'bytes that parse are never unparseable');
    assert.ok(!schema.safeParse(parsed.value).success);
    assert.equal(decoded.id, expectedId(parsed.value));
    assert.equal(typeof decoded.reason, 'string');
  }
}

describe('codecs', () => {
  it('describe their wire format', () => {
    assert.equal(msgpackCodec.format, 'msgpack');
    assert.equal(msgpackCodec.binary, true);
    assert.equal(jsonCodec.format, 'json');
    assert.equal(jsonCodec.binary, false);
    assert.equal(codecs.msgpack, msgpackCodec);
    assert.equal(codecs.json, jsonCodec);
  });

  for (const codec of both) {
    it(`${codec.format}: every valid client frame round-trips`, () => {
      fc.assert(
        fc.property(clientFrame, (frame) => {
          assert.deepStrictEqual(decodeClientFrame(codec, codec.encode(frame)), { kind: 'frame', frame });
        }),
        { numRuns: 400 },
      );
    });

    it(`${codec.format}: every valid server frame round-trips`, () => {
      fc.assert(
        fc.property(serverFrame, (frame) => {
          assert.deepStrictEqual(decodeServerFrame(codec, codec.encode(frame)), { kind: 'frame', frame });
        }),
        { numRuns: 400 },
      );
    });
  }

  it('msgpack: frames are standard msgpack (no bin, no ext, string keys, valid UTF-8)', () => {
    fc.assert(
      fc.property(fc.oneof(clientFrame, serverFrame), (frame) => {
        assert.equal(standardMsgpackProblem(msgpackCodec.encode(frame)), undefined);
      }),
      { numRuns: 300 },
    );
  });

  it('json: frames are UTF-8 JSON text equal to JSON.stringify', () => {
    fc.assert(
      fc.property(fc.oneof(clientFrame, serverFrame), (frame) => {
        const text = new TextDecoder('utf-8', { fatal: true }).decode(jsonCodec.encode(frame));
        assert.equal(text, JSON.stringify(frame));
      }),
      { numRuns: 200 },
    );
  });

  it('integers beyond 32 bits travel as float64 and decode exactly', () => {
    const bytes = encodePublicationMsgpack(encodeChannelName('c'), Number.MAX_SAFE_INTEGER, encodeData(-(2 ** 40)));
    assert.ok(hex(bytes).includes('cb433fffffffffffff'), 'off as float64');
    assert.deepStrictEqual(decodeServerFrame(msgpackCodec, bytes), {
      kind: 'frame',
      frame: { t: 'msg', ch: 'c', off: Number.MAX_SAFE_INTEGER, d: -(2 ** 40) },
    });
  });

  it('ids and offsets are accepted in any msgpack number format holding an integer', () => {
    const key = (k: string) => mp(k);
    const ping = (idBytes: number[]) => Uint8Array.from([0x82, ...key('t'), ...key('ping'), ...key('id'), ...idBytes]);
    const expectPing = (bytes: Uint8Array, id: number) =>
      assert.deepStrictEqual(decodeClientFrame(msgpackCodec, bytes), { kind: 'frame', frame: { t: 'ping', id } });
    expectPing(ping([0x07]), 7); // positive fixint
    expectPing(ping([0xcc, 0xff]), 255); // uint8
    expectPing(ping([0xd0, 0x07]), 7); // int8
    expectPing(ping([0xcf, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]), MAX_U32); // uint64
    expectPing(ping([0xcb, 0x40, 0x08, 0, 0, 0, 0, 0, 0]), 3); // float64 3.0
    expectPing(ping([0xca, 0x40, 0x40, 0, 0]), 3); // float32 3.0
    const half = decodeClientFrame(msgpackCodec, ping([0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0])); // 1.5
    assert.deepStrictEqual(half.kind === 'invalid' && half.id, 0);
  });
});

describe('the strict msgpack reader used by these tests', () => {
  it('refuses what a v1 peer must never send', () => {
    assert.equal(standardMsgpackProblem(unhex('81 a1 61 01')), undefined);
    const refused = ['c4 01 00', 'd4 00 00', 'd6 ff 00 00 00 01', 'c1', '81 01 02', '91', '01 02', 'a2 ff fe', 'da 00'];
    for (const bytes of refused) assert.notEqual(standardMsgpackProblem(unhex(bytes)), undefined, bytes);
  });

  it("agrees with the hub's gate (msgpackSubsetProblem), which leaves UTF-8 to the decoder", () => {
    const mostlyMsgpack = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      jsonData.map((value) => msgpackCodec.encode({ t: 'pub', id: 1, ch: 'a', d: value })),
    );
    fc.assert(
      fc.property(mostlyMsgpack, fc.nat(), fc.integer({ min: 0, max: 255 }), (bytes, at, byte) => {
        const mutated = Uint8Array.from(bytes);
        if (mutated.length > 0) mutated[at % mutated.length] = byte;
        const oracle = standardMsgpackProblem(mutated);
        const gate = msgpackSubsetProblem(mutated);
        if (gate !== undefined) assert.notEqual(oracle, undefined, gate);
        else if (oracle !== undefined) assert.match(oracle, /UTF-8/);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('publication pushes', () => {
  /** The array a push is on the wire, and the object it decodes to: positioned, or live-only without `off`. */
  const pushArray = (ch: string, pos: Position | undefined, d: unknown) => (pos ? [ch, pos.off, d] : [ch, d]);
  const pushObject = (ch: string, pos: Position | undefined, d: unknown) =>
    pos ? { t: 'msg', ch, off: pos.off, d } : { t: 'msg', ch, d };

  it('encodePublicationMsgpack splices data into exactly the bytes of msgpackCodec.encode of the array', () => {
    fc.assert(
      fc.property(channel, maybePosition, jsonData, (ch, pos, d) => {
        const push = encodePublicationMsgpack(encodeChannelName(ch), pos?.off, encodeData(d));
        assert.deepStrictEqual(decodeServerFrame(msgpackCodec, push), { kind: 'frame', frame: pushObject(ch, pos, d) });
        assert.equal(hex(push), hex(msgpackCodec.encode(pushArray(ch, pos, d))));
        assert.equal(standardMsgpackProblem(push), undefined);
      }),
      { numRuns: 400 },
    );
  });

  it('encodePublicationJson splices data into exactly the text of jsonCodec.encode of the array', () => {
    fc.assert(
      fc.property(channel, maybePosition, jsonData, (ch, pos, d) => {
        const push = encodePublicationJson(ch, pos?.off, JSON.stringify(decodeData(encodeData(d))));
        assert.deepStrictEqual(decodeServerFrame(jsonCodec, push), { kind: 'frame', frame: pushObject(ch, pos, d) });
        assert.equal(
          Buffer.from(push).toString('utf8'),
          Buffer.from(jsonCodec.encode(pushArray(ch, pos, d))).toString('utf8'),
        );
      }),
      { numRuns: 400 },
    );
  });

  it('cost at most the channel length + 12 bytes over the data in msgpack (offsets up to 2^53 − 1)', () => {
    fc.assert(
      fc.property(channel, fc.oneof(fc.nat(), fc.maxSafeNat()), jsonData, (ch, off, d) => {
        const data = encodeData(d);
        const push = encodePublicationMsgpack(encodeChannelName(ch), off, data);
        assert.ok(push.length - data.length <= ch.length + 12, `${push.length - data.length} bytes for ${ch.length}`);
      }),
    );
  });

  it('encodeData/decodeData round-trip JSON data as standard msgpack', () => {
    fc.assert(
      fc.property(jsonData, (d) => {
        const bytes = encodeData(d);
        assert.equal(standardMsgpackProblem(bytes), undefined);
        assert.deepStrictEqual(decodeData(bytes), d);
      }),
      { numRuns: 300 },
    );
  });
});

describe('decoders on hostile input', () => {
  for (const codec of both) {
    for (const schema of [ClientFrame, ServerFrame]) {
      const side = schema === ClientFrame ? 'client' : 'server';
      it(`${codec.format} ${side}: never throw on arbitrary bytes`, () => {
        fc.assert(
          fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => assertDecodeContract(codec, schema, bytes)),
          { numRuns: 3000 },
        );
      });
    }

    it(`${codec.format}: never throw on mutated valid frames`, () => {
      const mutated = fc
        .tuple(
          fc.oneof(clientFrame, serverFrame),
          fc.nat(),
          fc.nat({ max: 255 }),
          fc.constantFrom('flip', 'cut', 'insert', 'append'),
        )
        .map(([frame, at, byte, how]) => {
          const bytes = [...codec.encode(frame)];
          const i = at % (bytes.length + 1);
          if (how === 'flip') bytes[i % bytes.length] = byte;
          else if (how === 'cut') bytes.length = i;
          else if (how === 'insert') bytes.splice(i, 0, byte);
          else bytes.push(byte);
          return Uint8Array.from(bytes);
        });
      fc.assert(
        fc.property(mutated, (bytes) => {
          assertDecodeContract(codec, ClientFrame, bytes);
          assertDecodeContract(codec, ServerFrame, bytes);
        }),
        { numRuns: 2000 },
      );
    });

    it(`${codec.format}: never throw on arbitrary values and frame-like objects`, () => {
      const value = fc.oneof(
        fc.jsonValue({ maxDepth: 3 }),
        fc.record(
          {
            t: fc.oneof(
              fc.constantFrom('connect', 'sub', 'unsub', 'pub', 'refresh', 'ping', 'ok', 'err', 'msg'),
              fc.string(),
            ),
            id: fc.oneof(requestId, fc.integer(), fc.double(), fc.string(), fc.constant(null)),
            ch: fc.oneof(channel, fc.string(), fc.integer()),
            d: fc.jsonValue({ maxDepth: 2 }),
          },
          { requiredKeys: [] },
        ),
      );
      fc.assert(
        fc.property(value, (v) => {
          const bytes = codec.encode(v as object);
          assertDecodeContract(codec, ClientFrame, bytes);
          assertDecodeContract(codec, ServerFrame, bytes);
        }),
        { numRuns: 2000 },
      );
    });
  }

  it('json: never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (text) => {
        assertDecodeContract(jsonCodec, ClientFrame, utf8(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('msgpack: a lone 0xc1 (never used) is unparseable, alone or as data', () => {
    for (const decode of [decodeClientFrame, decodeServerFrame]) {
      assert.equal(decode(msgpackCodec, Uint8Array.of(0xc1)).kind, 'unparseable');
    }
    assert.equal(decodeClientFrame(msgpackCodec, msgpackPub(9, 0xc1)).kind, 'unparseable');
  });

  it('anything after the value is unparseable, in both flavours', () => {
    const ping = { t: 'ping', id: 1 };
    for (const codec of both) {
      const one = codec.encode(ping);
      assert.equal(decodeClientFrame(codec, one).kind, 'frame');
      assert.equal(decodeClientFrame(codec, Uint8Array.from([...one, ...one])).kind, 'unparseable');
      assert.equal(decodeClientFrame(codec, Uint8Array.from([...one, 0x00])).kind, 'unparseable');
      assert.equal(decodeClientFrame(codec, one.subarray(0, one.length - 1)).kind, 'unparseable');
      assert.equal(decodeClientFrame(codec, new Uint8Array()).kind, 'unparseable');
    }
    // JSON: whitespace around the value and a byte-order mark are fine; invalid UTF-8 is not.
    assert.equal(decodeClientFrame(jsonCodec, utf8(' \n{"t":"ping","id":1}\t ')).kind, 'frame');
    assert.equal(decodeClientFrame(jsonCodec, utf8('\ufeff{"t":"ping","id":1}')).kind, 'frame');
    assert.equal(decodeClientFrame(jsonCodec, Uint8Array.from([0x7b, 0xff, 0x7d])).kind, 'unparseable');
  });

  it('msgpack: bin, every extension type and every non-string map key are unparseable; NaN is invalid', () => {
    const pubWith = (d: number[]) =>
      Uint8Array.from([0x84, ...mp('t'), ...mp('pub'), ...mp('id'), 5, ...mp('ch'), ...mp('a'), ...mp('d'), ...d]);
    const unparseable = [
      [0xc4, 2, 1, 2], // bin 8
      [0xd6, 0xff, 0, 0, 0, 1], // timestamp
      [0xd4, 0x05, 0x01], // ext 5
      [0xd6, 0x69, 0, 0, 0, 1, 0x01], // msgpackr's shared-reference definition
      [0xd4, 0x72, 0x40, 0x91, 0xa1, 0x61], // msgpackr's record definition
      [0x81, 0x91, 0x01, 0x02], // [1] as a key
      [0x82, 0x01, 0x02, 0xc0, 0x03], // 1 and nil as keys
    ];
    for (const d of unparseable) assert.equal(decodeClientFrame(msgpackCodec, pubWith(d)).kind, 'unparseable');
    const nan = decodeClientFrame(msgpackCodec, pubWith([0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0]));
    assert.deepStrictEqual(nan.kind === 'invalid' ? { kind: nan.kind, id: nan.id } : nan, { kind: 'invalid', id: 5 });
  });

  it('duplicate keys: the last one wins, in both flavours', () => {
    const msgpack = Uint8Array.from([0x83, ...mp('t'), ...mp('ping'), ...mp('id'), 1, ...mp('id'), 2]);
    assert.deepStrictEqual(decodeClientFrame(msgpackCodec, msgpack), { kind: 'frame', frame: { t: 'ping', id: 2 } });
    assert.deepStrictEqual(decodeClientFrame(jsonCodec, utf8('{"t":"ping","id":1,"id":2}')), {
      kind: 'frame',
      frame: { t: 'ping', id: 2 },
    });
  });
});

describe('__proto__ keys', () => {
  const pristine = () => {
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
    assert.equal(Object.getOwnPropertyNames(Object.prototype).includes('polluted'), false);
  };

  it('never pollute prototypes nor give frames inherited keys', () => {
    const json = [
      '{"__proto__":{"polluted":1,"t":"ping","id":5}}',
      '{"t":"ping","id":5,"__proto__":{"polluted":1}}',
      '{"t":"pub","id":5,"ch":"a","d":{"__proto__":{"polluted":1},"k":{"__proto__":{"polluted":2}}}}',
      '{"t":"sub","id":5,"ch":"a","since":{"ep":"e","off":1,"__proto__":{"polluted":1}}}',
      '{"t":"ok","id":5,"r":{"__proto__":{"polluted":1}}}',
    ];
    const protoMap = (inner: number[]) => [0x81, ...mp('__proto__'), ...inner];
    const msgpack = [
      Uint8Array.from(protoMap(mp({ polluted: 1, t: 'ping', id: 5 }))),
      msgpackPub(5, ...protoMap(mp({ polluted: 1 }))),
    ];
    const inputs: Array<[Codec, Uint8Array]> = [
      ...json.map((text): [Codec, Uint8Array] => [jsonCodec, utf8(text)]),
      ...msgpack.map((bytes): [Codec, Uint8Array] => [msgpackCodec, bytes]),
    ];
    for (const [codec, bytes] of inputs) {
      for (const decode of [decodeClientFrame, decodeServerFrame]) {
        const result = decode(codec, bytes);
        pristine();
        if (result.kind !== 'frame') continue;
        const walk = (value: unknown): void => {
          if (value === null || typeof value !== 'object') return;
          assert.ok([Object.prototype, Array.prototype].includes(Object.getPrototypeOf(value)), 'plain prototype');
          assert.ok(!('polluted' in value) || Object.hasOwn(value, 'polluted'), 'no inherited keys');
          for (const item of Object.values(value)) walk(item);
        };
        walk(result.frame);
      }
    }
    // A top-level __proto__ is not a way to smuggle in `t` and `id`.
    assert.equal(decodeClientFrame(jsonCodec, utf8(json[0] as string)).kind, 'invalid');
    assert.equal(decodeClientFrame(msgpackCodec, msgpack[0] as Uint8Array).kind, 'invalid');
  });

  it('a __proto__ data key is refused in JSON, and msgpackr defuses it by renaming it __proto_', () => {
    const viaJson = decodeClientFrame(jsonCodec, utf8('{"t":"pub","id":1,"ch":"a","d":{"__proto__":1,"k":2}}'));
    assert.deepStrictEqual(viaJson, { kind: 'invalid', id: 1, reason: 'd: the key __proto__ is not allowed' });
    const bytes = msgpackPub(1, 0x82, ...mp('__proto__'), 1, ...mp('k'), 2);
    assert.deepStrictEqual(decodeClientFrame(msgpackCodec, bytes), {
      kind: 'frame',
      frame: { t: 'pub', id: 1, ch: 'a', d: { __proto_: 1, k: 2 } },
    });
  });
});

describe('hostile data', () => {
  it('deeply nested data is answered as invalid instead of throwing', () => {
    const depth = 20_000; // 40 kB of JSON, under the default 64 KiB frame limit
    const json = utf8(`{"t":"pub","id":7,"ch":"a","d":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    const msgpack = msgpackPub(7, ...new Array(depth).fill(0x91), 0xc0);
    for (const [codec, bytes] of [
      [jsonCodec, json],
      [msgpackCodec, msgpack],
    ] as const) {
      let result: ReturnType<typeof decodeClientFrame> | undefined;
      assert.doesNotThrow(() => {
        result = decodeClientFrame(codec, bytes);
      });
      // JSON.parse reads it and the data check refuses it; msgpackr's recursive reader gives up
      // first, which makes the frame unparseable (close 4500). Neither throws.
      if (codec === jsonCodec) {
        assert.deepStrictEqual(result, { kind: 'invalid', id: 7, reason: 'd: nested deeper than 64 levels' });
      } else {
        assert.equal(result?.kind, 'unparseable');
      }
    }
  });

  it('msgpack never encodes undefined-valued keys as msgpackr extension type 0', () => {
    const bytes = msgpackCodec.encode({ t: 'sub', id: 1, ch: 'a', since: undefined });
    assert.equal(standardMsgpackProblem(bytes), undefined);
    assert.deepStrictEqual(msgpackCodec.parse(bytes), { t: 'sub', id: 1, ch: 'a' });
  });

  it('data with a lone surrogate, which has no UTF-8 form for msgpack subscribers, is invalid', () => {
    const bytes = utf8('{"t":"pub","id":3,"ch":"a","d":{"text":"a\\ud800b"}}');
    const result = decodeClientFrame(jsonCodec, bytes);
    assert.deepStrictEqual(result, { kind: 'invalid', id: 3, reason: 'd: strings must be well-formed Unicode' });
  });

  it('data with a __proto__ key is invalid', () => {
    const result = decodeClientFrame(jsonCodec, utf8('{"t":"pub","id":4,"ch":"a","d":{"__proto__":{"x":1}}}'));
    assert.deepStrictEqual(result, { kind: 'invalid', id: 4, reason: 'd: the key __proto__ is not allowed' });
  });
});

describe('spec examples in protocol/README.md', () => {
  const readme = readFileSync(new URL('../../protocol/README.md', import.meta.url), 'utf8');
  const block = (name: string): string => {
    const match = new RegExp(`<!-- example:${name} -->\\s*\`\`\`text\\n([\\s\\S]*?)\`\`\``).exec(readme);
    assert.ok(match?.[1], `example ${name} present`);
    return match[1];
  };

  it('the msgpack push hex is what encodePublicationMsgpack produces', () => {
    const expected = unhex(block('msgpack-push'));
    const push = encodePublicationMsgpack(encodeChannelName('news:eu'), 42, encodeData({ title: 'hello' }));
    assert.equal(hex(push), hex(expected));
    assert.match(readme, new RegExp(`\\(${expected.length} bytes\\)`));
  });

  it('every line of the JSON transcript is what the codecs say', () => {
    const lines = block('json-transcript')
      .split('\n')
      .filter((line) => line.startsWith('> ') || line.startsWith('< ') || line.startsWith('# '));
    let checked = 0;
    lines.forEach((line, i) => {
      const text = line.slice(2);
      if (line.startsWith('< ')) {
        const result = decodeServerFrame(jsonCodec, utf8(text));
        assert.equal(result.kind, 'frame', `hub line ${text}`);
        checked++;
      } else if (line.startsWith('> ')) {
        const next = lines[i + 1] ?? '';
        const result = decodeClientFrame(jsonCodec, utf8(text));
        const reply = next.startsWith('< ')
          ? (JSON.parse(next.slice(2)) as { t: string; code?: number; id?: number })
          : undefined;
        if (next.includes('4500')) assert.equal(result.kind, 'unparseable', text);
        else if (reply?.t === 'err' && reply.code === 107) {
          assert.equal(result.kind, 'invalid', text);
          assert.equal(result.kind === 'invalid' && result.id, reply.id);
          assert.equal(result.kind === 'invalid' && result.reason, (reply as { msg?: string }).msg);
        } else assert.equal(result.kind, 'frame', text);
        checked++;
      }
    });
    assert.ok(checked > 20);
  });
});
