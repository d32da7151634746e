import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryBroker } from '../../../src/brokers/memory.js';
import { collector } from '../support.js';
import { brokerContract } from './contract.js';

const bytes = (n: number) => new Uint8Array([n]);

brokerContract('memory', async () => new MemoryBroker());

describe('memory broker memory bound', () => {
  it('forgets channels without subscribers once their history expired, starting a new epoch', async () => {
    const broker = new MemoryBroker({ sweepIntervalMs: 10 });
    await broker.start(collector([]));
    const first = await broker.publish('c', bytes(1), { size: 10, ttlMs: 5 });
    await broker.subscribe(['kept']);
    const kept = await broker.publish('kept', bytes(1), { size: 10, ttlMs: 5 });
    await new Promise((resolve) => setTimeout(resolve, 60));
    const after = (await broker.read('c', { after: 0, limit: 0 })).top;
    assert.notEqual(after.ep, first.ep);
    assert.equal(after.off, 0);
    assert.deepEqual((await broker.read('kept', { after: 0, limit: 0 })).top, kept);
    await broker.close();
  });
});
