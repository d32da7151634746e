import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Publication } from '../../client-sdk/src/index.js';
import { startHub, type TestHub } from '../support/hub.js';
import { waitFor } from '../support/wait.js';
import { hubClients } from './helpers.js';
import { tap } from './tap.js';

describe('conflation: subscribe(channel, {maxRate}) through the SDK', { timeout: 60_000 }, () => {
  let hub: TestHub;
  const { client, closeAll } = hubClients(() => hub.url);

  before(async () => {
    hub = await startHub({ namespaces: { ticker: { conflation: { key: 'symbol' } }, quote: {} } });
  });

  after(async () => {
    closeAll();
    await hub.stop();
  });

  it('delivers at most the rate, the latest last, and tells what it skipped', async () => {
    const got: Array<{ at: number; publication: Publication }> = [];
    const capped = client().subscribe('quote:x', { maxRate: 10 });
    const all: Publication[] = [];
    const whole = client().subscribe('quote:x');
    capped.on('publication', (publication) => got.push({ at: Date.now(), publication }));
    whole.on('publication', (publication) => all.push(publication));
    await Promise.all([capped.ready, whole.ready]);
    const publisher = client();
    const start = Date.now();
    const count = 300;
    await Promise.all(Array.from({ length: count }, (_, i) => publisher.publish('quote:x', { price: i })));
    await waitFor(() => got.at(-1)?.publication.position?.off === count, 'the latest value');
    const span = (got.at(-1)?.at ?? 0) - start;
    const skipped = got.reduce((sum, { publication }) => sum + (publication.skipped ?? 0), 0);
    console.log(`${count} publications in ${span} ms: ${got.length} delivered at maxRate 10, ${skipped} skipped`);
    // Pushes leave the hub at least 100 ms apart, between the first publish and the last arrival.
    assert.ok(got.length <= Math.floor(span / 100) + 1, `${got.length} pushes in ${span} ms`);
    assert.equal(got.length + skipped, count);
    assert.deepEqual(got.at(-1)?.publication.data, { price: count - 1 });
    assert.equal(all.length, count);
  });

  it('with the namespace key, every symbol keeps its latest value', async () => {
    const latest = new Map<string, unknown>();
    const capped = client().subscribe('ticker:prices', { maxRate: 2 });
    capped.on('publication', ({ data }) => latest.set((data as { symbol: string }).symbol, data));
    await capped.ready;
    const publisher = client();
    for (let i = 0; i < 60; i++) await publisher.publish('ticker:prices', { symbol: ['A', 'B', 'C'][i % 3], n: i });
    await waitFor(
      () => latest.size === 3 && [...latest.values()].every((v) => (v as { n: number }).n >= 57),
      'each symbol at its latest',
    );
    assert.deepEqual(Object.fromEntries(latest), {
      A: { symbol: 'A', n: 57 },
      B: { symbol: 'B', n: 58 },
      C: { symbol: 'C', n: 59 },
    });
  });

  it('a capped subscription resumed after a drop gets the latest of what it missed, with the count skipped', async () => {
    const tapped = tap();
    const got: Publication[] = [];
    const capped = client({ WebSocket: tapped.WebSocket }).subscribe('quote:resume', { maxRate: 5 });
    capped.on('publication', (publication) => got.push(publication));
    await capped.ready;
    assert.equal(tapped.sockets[0]?.framesOf('sub')[0]?.maxRate, 5);
    const publisher = client();
    await publisher.publish('quote:resume', { v: 1 });
    await waitFor(() => got.length === 1, 'the first');
    tapped.sockets[0]?.terminate();
    for (let v = 2; v <= 20; v++) await publisher.publish('quote:resume', { v });
    await waitFor(() => got.at(-1)?.position?.off === 20, 'the latest after resuming');
    const total = got.length + got.reduce((sum, p) => sum + (p.skipped ?? 0), 0);
    assert.equal(total, 20);
    assert.deepEqual(got.at(-1)?.data, { v: 20 });
    assert.ok(got.length <= 4, `${got.length} pushes`);
  });
});
