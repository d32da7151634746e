import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '@switchboard/protocol';
import { type CallOwner, type DroppedReply, PendingCalls } from '../../../src/rpc/calls.js';

/** A connection that can be closed by the test. */
function connection(): CallOwner & { close(): void } {
  const tasks = new Set<() => void>();
  return {
    whenClosed(task) {
      tasks.add(task);
      return () => tasks.delete(task);
    },
    close() {
      for (const task of [...tasks]) task();
    },
  };
}

describe('PendingCalls', () => {
  it('hands each reply to its own call, and counts a reply nobody waits for', async () => {
    const dropped: DroppedReply[] = [];
    const calls = new PendingCalls('hub', 8, (reason) => dropped.push(reason));
    const owner = connection();
    const a = calls.open(owner, 5_000);
    const b = calls.open(owner, 5_000);
    assert.notEqual(a.id, b.id);
    calls.settle(b.id, { data: 'b' });
    calls.settle(a.id, { data: 'a' });
    assert.deepEqual(await Promise.all([a.reply, b.reply]), [{ data: 'a' }, { data: 'b' }]);
    calls.settle(a.id, { data: 'again' });
    calls.settle('hub.zz', { data: 'never asked' });
    assert.deepEqual(dropped, ['unknown', 'unknown']);
    assert.equal(calls.size, 0);
  });

  it('ends a call at its deadline with 117, and counts its reply as late', async () => {
    const dropped: DroppedReply[] = [];
    const calls = new PendingCalls('hub', 8, (reason) => dropped.push(reason));
    const { id, reply } = calls.open(connection(), 10);
    await assert.rejects(reply, { code: ErrorCode.RPC_TIMEOUT });
    calls.settle(id, { data: 1 });
    assert.deepEqual(dropped, ['late']);
  });

  it('ends the calls of a connection that closes, and counts their replies as gone', async () => {
    const dropped: DroppedReply[] = [];
    const calls = new PendingCalls('hub', 8, (reason) => dropped.push(reason));
    const owner = connection();
    const { id, reply } = calls.open(owner, 5_000);
    owner.close();
    await assert.rejects(reply, { code: ErrorCode.NOT_AVAILABLE });
    assert.equal(calls.size, 0);
    calls.settle(id, { data: 1 });
    assert.deepEqual(dropped, ['gone']);
  });

  it('refuses more waiting calls per connection than its bound with 106', () => {
    const calls = new PendingCalls('hub', 2, () => undefined);
    const owner = connection();
    calls.open(owner, 5_000).reply.catch(() => undefined);
    calls.open(owner, 5_000).reply.catch(() => undefined);
    assert.throws(() => calls.open(owner, 5_000), { code: ErrorCode.LIMIT_EXCEEDED });
    calls.open(connection(), 5_000).reply.catch(() => undefined);
    owner.close();
  });
});
