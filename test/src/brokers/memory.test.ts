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

describe('memory broker history bound over all channels', () => {
  it("keeps the history of all channels within maxHistoryBytes, dropping the node's oldest first", async () => {
    const data = new Uint8Array(1_000);
    const perPublication = data.byteLength + 320;
    const broker = new MemoryBroker({ maxHistoryBytes: 10 * perPublication });
    await broker.start(collector([]));
    const history = { size: 100, ttlMs: 60_000 };
    for (let i = 0; i < 6; i++) await broker.publish('old', data, history);
    for (let i = 0; i < 8; i++) await broker.publish('new', data, history);
    assert.ok(broker.historyBytes <= 10 * perPublication);
    assert.deepEqual(
      (await broker.read('old', { after: 0, limit: 100 })).publications.map((p) => p.position.off),
      [5, 6],
      "the old channel's first four made room",
    );
    assert.equal((await broker.read('new', { after: 0, limit: 100 })).publications.length, 8);
    await broker.close();
  });
});
