import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bytesOfPatch,
  codecs,
  DeltaKind,
  encodeChannelName,
  encodeDeltaPushJson,
  encodeDeltaPushMsgpack,
  fromWire,
  patchText,
  serverFrameProblem,
} from '@switchboard/protocol';
import fc from 'fast-check';

describe('delta pushes (protocol §3.3)', () => {
  it('a patch comes back byte for byte through its text, in both wire formats', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20_000 }), fc.nat(), (patch, off) => {
        const text = patchText(patch);
        for (const frame of [
          codecs.msgpack.parse(encodeDeltaPushMsgpack(encodeChannelName('doc:1'), off, DeltaKind.PATCH, text)),
          codecs.json.parse(encodeDeltaPushJson('doc:1', off, DeltaKind.PATCH, text)),
        ]) {
          const push = fromWire(frame);
          assert.equal(serverFrameProblem(push), undefined);
          assert.deepEqual(push, { t: 'dmsg', ch: 'doc:1', off, k: DeltaKind.PATCH, s: text });
          assert.deepEqual(bytesOfPatch((push as { s: string }).s), patch);
        }
      }),
    );
  });

  it('a live-only push has no offset on either side', () => {
    const text = '{"a":"é😀"}';
    for (const frame of [
      codecs.msgpack.parse(encodeDeltaPushMsgpack(encodeChannelName('doc:1'), undefined, DeltaKind.FULL, text)),
      codecs.json.parse(encodeDeltaPushJson('doc:1', undefined, DeltaKind.FULL, text)),
    ]) {
      assert.deepEqual(fromWire(frame), { t: 'dmsg', ch: 'doc:1', k: DeltaKind.FULL, s: text });
    }
  });

  it('a string with a character beyond one byte is not a patch', () => {
    assert.equal(bytesOfPatch('ok\u0100'), undefined);
  });

  it('clients refuse a dmsg of an unknown kind or without its text', () => {
    assert.match(serverFrameProblem({ t: 'dmsg', ch: 'a', k: 3, s: '' }) ?? '', /^k/);
    assert.match(serverFrameProblem({ t: 'dmsg', ch: 'a', k: 0 }) ?? '', /^s/);
  });
});
