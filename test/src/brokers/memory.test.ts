import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Publication } from '../../../src/brokers/broker.js';
import { MemoryBroker } from '../../../src/brokers/memory.js';

const history = { size: 3, ttlMs: 60_000 };
const bytes = (n: number) => new Uint8Array([n]);

async function started(now?: () => number) {
  const delivered: Publication[] = [];
  const broker = new MemoryBroker(now ? { now } : {});
  await broker.start({ onPublication: (p) => delivered.push(p) });
  return { broker, delivered };
}

describe('memory broker', () => {
  it('gives each publication of a channel the next offset within one epoch', async () => {
    const { broker } = await started();
    const a = await broker.publish('c', bytes(1), history);
    const b = await broker.publish('c', bytes(2), history);
    const other = await broker.publish('d', bytes(3), history);
    assert.equal(a.off, 1);
    assert.equal(b.off, 2);
    assert.equal(a.ep, b.ep);
    assert.equal(other.off, 1);
    assert.deepEqual(await broker.position('c'), b);
    await broker.close();
  });

  it('delivers only the channels this node subscribed to (interest-based)', async () => {
    const { broker, delivered } = await started();
    await broker.subscribe(['wanted']);
    await broker.publish('wanted', bytes(1), history);
    await broker.publish('unwanted', bytes(2), history);
    await broker.unsubscribe(['wanted']);
    await broker.publish('wanted', bytes(3), history);
    assert.deepEqual(
      delivered.map((p) => [p.channel, p.position.off]),
      [['wanted', 1]],
    );
    await broker.close();
  });

  it('replays exactly the publications after a position still in history', async () => {
    const { broker } = await started();
    for (let i = 1; i <= 5; i++) await broker.publish('c', bytes(i), history);
    const { ep } = await broker.position('c');
    const result = await broker.history('c', { since: { ep, off: 3 }, limit: 100 });
    assert.ok(result.recoverable);
    assert.deepEqual(
      result.publications.map((p) => p.position.off),
      [4, 5],
    );
    const none = await broker.history('c', { since: { ep, off: 5 }, limit: 100 });
    assert.ok(none.recoverable);
    assert.equal(none.publications.length, 0);
    await broker.close();
  });

  it('reports positions it can no longer reach, and why', async () => {
    const { broker } = await started();
    for (let i = 1; i <= 5; i++) await broker.publish('c', bytes(i), history);
    const { ep } = await broker.position('c');
    const reason = async (since: { ep: string; off: number }, limit = 100) => {
      const result = await broker.history('c', { since, limit });
      return result.recoverable ? 'recoverable' : result.reason;
    };
    assert.equal(await reason({ ep, off: 1 }), 'trimmed');
    assert.equal(await reason({ ep: 'other', off: 4 }), 'epoch_changed');
    assert.equal(await reason({ ep, off: 9 }), 'ahead_of_stream');
    assert.equal(await reason({ ep, off: 2 }, 1), 'too_many_missed');
    assert.equal(await reason({ ep, off: 2 }), 'recoverable');
    await broker.close();
  });

  it('treats expired history as trimmed', async () => {
    let now = 1_000;
    const { broker } = await started(() => now);
    await broker.publish('c', bytes(1), { size: 10, ttlMs: 100 });
    await broker.publish('c', bytes(2), { size: 10, ttlMs: 100 });
    const { ep } = await broker.position('c');
    now += 101;
    const result = await broker.history('c', { since: { ep, off: 1 }, limit: 100 });
    assert.equal(result.recoverable ? 'recoverable' : result.reason, 'trimmed');
    await broker.close();
  });

  it('keeps no history when the size is 0, yet keeps offsets contiguous', async () => {
    const { broker } = await started();
    await broker.publish('c', bytes(1), { size: 0, ttlMs: 1000 });
    const second = await broker.publish('c', bytes(2), { size: 0, ttlMs: 1000 });
    assert.equal(second.off, 2);
    const result = await broker.history('c', { since: { ep: second.ep, off: 1 }, limit: 100 });
    assert.equal(result.recoverable ? 'recoverable' : result.reason, 'trimmed');
    await broker.close();
  });
});

describe('memory broker memory bound', () => {
  it('forgets channels without subscribers once their history expired, starting a new epoch', async () => {
    const broker = new MemoryBroker({ sweepIntervalMs: 10 });
    await broker.start({ onPublication: () => undefined });
    const first = await broker.publish('c', bytes(1), { size: 10, ttlMs: 5 });
    await broker.subscribe(['kept']);
    const kept = await broker.publish('kept', bytes(1), { size: 10, ttlMs: 5 });
    await new Promise((resolve) => setTimeout(resolve, 60));
    const after = await broker.position('c');
    assert.notEqual(after.ep, first.ep);
    assert.equal(after.off, 0);
    assert.deepEqual(await broker.position('kept'), kept);
    await broker.close();
  });
});
