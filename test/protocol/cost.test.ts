import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type Codec, decodeClientFrame, jsonCodec, msgpackCodec } from '@switchboard/protocol';
import fc from 'fast-check';
import { amplifiedString, concat as joined, pubFrame, referenceDag } from '../support/hostile-msgpack.js';

const concat = (parts: readonly Uint8Array[]): Uint8Array => joined(...parts);

/**
 * Untrusted bytes must cost time and memory linear in their length. These properties hunt for
 * inputs that cost more: msgpack built from msgpackr's extension, record and reference features,
 * structures deep and wide, long strings, in both flavours. The measure that decides is
 * deterministic — the decoded value has at most one node per input byte, so nothing downstream
 * can walk more than that — and the clock only has to tell milliseconds from the seconds an
 * exponential input costs.
 */

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** Nodes of a decoded value (shared parts counted once per path), stopping past `limit`. */
function nodesUpTo(value: unknown, limit: number): number {
  const pending: unknown[] = [value];
  let nodes = 0;
  while (pending.length > 0 && nodes <= limit) {
    const current = pending.pop();
    nodes += 1;
    if (current !== null && typeof current === 'object') pending.push(...Object.values(current));
  }
  return nodes;
}

/**
 * Decodes and validates; returns the CPU milliseconds this process spent (not wall time, which
 * other processes on a busy machine stretch: 99 ms of wall time were seen for a 2,399-byte frame
 * while two other test suites ran) and the decoded frame's node count (bounded).
 */
function cost(codec: Codec, bytes: Uint8Array): { ms: number; nodes: number } {
  const started = process.cpuUsage();
  const decoded = decodeClientFrame(codec, bytes);
  const used = process.cpuUsage(started);
  const ms = (used.user + used.system) / 1000;
  const nodes = decoded.kind === 'frame' ? nodesUpTo(decoded.frame, bytes.length + 1) : 0;
  return { ms, nodes };
}

/** What a linear decoder may spend: generous enough for a loaded two-core machine, far below exponential. */
const budgetMs = (bytes: number) => 25 + bytes * 0.02;

const u8 = (...values: number[]) => Uint8Array.from(values);

/** Pieces of hostile msgpack: extension headers of msgpackr's own types, containers, long strings. */
const piece: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc
    .tuple(fc.constantFrom(0x69, 0x70, 0x72, 0x73, 0x65, 0x42, 0x78, 0xff, 0x00), fc.nat(8))
    .map(([type, id]) => u8(0xd6, type, 0, 0, 0, id)),
  fc.tuple(fc.nat(0x3f)).map(([id]) => u8(0xd4, 0x72, 0x40 | id)),
  fc.integer({ min: 0, max: 15 }).map((n) => u8(0x90 | n)),
  fc.integer({ min: 0, max: 15 }).map((n) => u8(0x80 | n)),
  fc.integer({ min: 0, max: 0xffff }).map((n) => u8(0xdc, n >> 8, n & 0xff)),
  fc.integer({ min: 1, max: 30 }).map((levels) => referenceDag(levels)),
  fc.integer({ min: 2, max: 500 }).map((copies) => amplifiedString(copies, 1_000)),
  fc.integer({ min: 1, max: 60_000 }).map((n) => concat([u8(0xda, n >> 8, n & 0xff), new Uint8Array(n).fill(0x61)])),
  fc.uint8Array({ maxLength: 16 }),
  fc.constantFrom(u8(0xc1), u8(0xc0), u8(0xa1, 0x61), u8(0x40), u8(0x7f)),
);

const hostileMsgpack: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.array(piece, { minLength: 1, maxLength: 12 }).map(concat),
  fc
    .tuple(fc.array(piece, { minLength: 1, maxLength: 8 }), fc.boolean())
    .map(([parts, trailing]) => pubFrame(1, 'c', concat(parts), trailing ? [0xc0] : [])),
  fc.integer({ min: 1, max: 40_000 }).map((depth) => pubFrame(1, 'c', new Uint8Array(depth).fill(0x91))),
  // Well-formed, so that validation runs too: deep (refused past 64 levels) and wide.
  fc
    .integer({ min: 1, max: 2_000 })
    .map((depth) => pubFrame(1, 'c', new Uint8Array(depth + 1).fill(0x91, 0, depth).fill(0x90, depth))),
  fc
    .integer({ min: 1, max: 0xffff })
    .map((n) => pubFrame(1, 'c', concat([u8(0xdc, n >> 8, n & 0xff), new Uint8Array(n).fill(0x80)]))),
);

const hostileJson: fc.Arbitrary<Uint8Array> = fc
  .oneof(
    fc
      .integer({ min: 1, max: 30_000 })
      .map((depth) => `{"t":"pub","id":1,"ch":"c","d":${'['.repeat(depth)}${']'.repeat(depth)}}`),
    fc.integer({ min: 1, max: 10_000 }).map((n) => `{"t":"pub","id":1,"ch":"c","d":[${'{},'.repeat(n)}0]}`),
    fc.integer({ min: 1, max: 10_000 }).map((n) => `{"t":"pub","id":1,"ch":"c","d":"${'\\u0000'.repeat(n)}"}`),
    fc
      .integer({ min: 1, max: 5_000 })
      .map((n) => `{"t":"pub","id":1,"ch":"c","d":{${'"__proto__":{},'.repeat(n)}"a":1}}`),
    fc.string({ maxLength: 2_000 }),
  )
  .map((text) => new TextEncoder().encode(text));

function assertLinear(codec: Codec, arbitrary: fc.Arbitrary<Uint8Array>): void {
  fc.assert(
    fc.property(arbitrary, (bytes) => {
      const { ms, nodes } = cost(codec, bytes);
      assert.ok(nodes <= bytes.length, `${nodes} nodes decoded from ${bytes.length} bytes`);
      assert.ok(ms < budgetMs(bytes.length), `${ms.toFixed(1)} ms for ${bytes.length} bytes`);
    }),
    { numRuns: 300 },
  );
}

describe('the cost of decoding untrusted frames', () => {
  it('msgpack: extensions, records, references, depth, width and long strings cost linear time', () => {
    assertLinear(msgpackCodec, hostileMsgpack);
  });

  it('json: depth, width, escapes and __proto__ keys cost linear time', () => {
    assertLinear(jsonCodec, hostileJson);
  });

  it('the reference DAG of 26 levels (about 360 bytes, 2^26 paths) is refused in well under a millisecond of work', () => {
    const frame = pubFrame(1, 'c', referenceDag(26));
    assert.ok(frame.length < 400);
    const decoded = decodeClientFrame(msgpackCodec, frame);
    assert.deepEqual(decoded, { kind: 'unparseable', reason: 'msgpack extension types are not part of the protocol' });
    // With one trailing byte too: msgpackr would stringify the decoded value into its error message.
    const trailing = decodeClientFrame(msgpackCodec, pubFrame(1, 'c', referenceDag(26), [0xc0]));
    assert.equal(trailing.kind, 'unparseable');
  });

  it('memory stays bounded while thousands of hostile frames are decoded', () => {
    const frames = fc.sample(hostileMsgpack, { numRuns: 2_000, seed: 42 });
    collect();
    const before = process.memoryUsage().heapUsed;
    let largest = 0;
    for (const frame of frames) {
      decodeClientFrame(msgpackCodec, frame);
      largest = Math.max(largest, frame.length);
    }
    collect();
    const grown = process.memoryUsage().heapUsed - before;
    assert.ok(
      grown < 16 * 1024 * 1024,
      `heap grew ${(grown / 1024 / 1024).toFixed(1)} MiB (largest frame ${largest} B)`,
    );
  });
});
