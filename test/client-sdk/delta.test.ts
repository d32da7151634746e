import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Publication } from '../../client-sdk/src/index.js';
import { countingWebSocket } from '../support/counting-socket.js';
import { startHub, type TestHub } from '../support/hub.js';
import { waitFor } from '../support/wait.js';
import { hubClients } from './helpers.js';
import { tap } from './tap.js';

/** A JSON document of about 4.5 KB, as a feed of records would send it again and again. */
function document(version: number): Record<string, unknown> {
  const items = Array.from({ length: 40 }, (_, i) => ({
    id: `item-${i}`,
    name: `Product number ${i} of the catalogue`,
    price: 100 + i,
    stock: i % 7 === version % 7 ? version : i,
    tags: ['new', 'sale', `group-${i % 5}`],
  }));
  return { version, updated: `2026-12-01T06:00:${String(version % 60).padStart(2, '0')}Z`, items };
}

describe('delta compression through the SDK (protocol §3.3)', { timeout: 120_000 }, () => {
  let hub: TestHub;
  const { client, closeAll } = hubClients(() => hub.url);

  before(async () => {
    hub = await startHub({ namespaces: { doc: { delta: true }, plain: {} } });
  });

  after(async () => {
    closeAll();
    await hub.stop();
  });

  it('near-identical documents cost a fraction of their size on the wire, and arrive whole', async () => {
    const wholeBytes = countingWebSocket();
    const deltaBytes = countingWebSocket();
    const whole = client({ WebSocket: wholeBytes.WebSocket });
    const delta = client({ WebSocket: deltaBytes.WebSocket });
    const got: { whole: unknown[]; delta: unknown[] } = { whole: [], delta: [] };
    const a = whole.subscribe('doc:feed');
    const b = delta.subscribe('doc:feed', { delta: true });
    a.on('publication', (publication) => got.whole.push(publication.data));
    b.on('publication', (publication) => got.delta.push(publication.data));
    await Promise.all([a.ready, b.ready]);
    const before = { whole: wholeBytes.bytes(), delta: deltaBytes.bytes() };
    const publisher = client();
    const sent = Array.from({ length: 20 }, (_, i) => document(i));
    for (const data of sent) await publisher.publish('doc:feed', data);
    await waitFor(() => got.whole.length === 20 && got.delta.length === 20, 'both subscribers got all 20');
    assert.deepEqual(got.delta, sent);
    assert.deepEqual(got.whole, sent);
    const wholeWire = wholeBytes.bytes() - before.whole;
    const deltaWire = deltaBytes.bytes() - before.delta;
    console.log(
      `20 documents of ${JSON.stringify(sent[0]).length} B: ${wholeWire} B whole, ${deltaWire} B with delta (${((100 * deltaWire) / wholeWire).toFixed(1)}%)`,
    );
    // The first goes whole; each of the 19 others is a patch of a few dozen bytes.
    assert.ok(deltaWire < wholeWire / 5, `delta ${deltaWire} B against whole ${wholeWire} B`);
  });

  it('a namespace without delta answers without it, and the subscription gets whole pushes', async () => {
    const tapped = tap();
    const subscriber = client({ WebSocket: tapped.WebSocket });
    const got: unknown[] = [];
    const subscription = subscriber.subscribe('plain:feed', { delta: true });
    subscription.on('publication', (publication) => got.push(publication.data));
    await subscription.ready;
    assert.equal(tapped.sockets[0]?.framesOf('sub')[0]?.delta, 'fossil');
    await client().publish('plain:feed', document(1));
    await waitFor(() => got.length === 1, 'the publication');
    assert.deepEqual(got, [document(1)]);
  });

  it('the JSON flavour applies the same deltas', async () => {
    const subscriber = client({ format: 'json' });
    const got: unknown[] = [];
    const subscription = subscriber.subscribe('doc:json', { delta: true });
    subscription.on('publication', (publication) => got.push(publication.data));
    await subscription.ready;
    const publisher = client();
    const sent = [document(1), document(2), { text: 'é😀 and "quotes" \u0000' }, document(3)];
    for (const data of sent) await publisher.publish('doc:json', data);
    await waitFor(() => got.length === sent.length, 'every publication');
    assert.deepEqual(got, sent);
  });

  it('property: through reconnections and recoveries, a delta subscriber gets exactly the data published', async () => {
    const edit = fc.record({
      item: fc.nat({ max: 39 }),
      field: fc.constantFrom('price', 'stock', 'name', 'tags'),
      value: fc.oneof(
        fc.integer(),
        fc.string({ maxLength: 30 }),
        fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
      ),
    });
    const step = fc.oneof(
      { weight: 5, arbitrary: edit.map((e) => ({ kind: 'edit' as const, ...e })) },
      { weight: 1, arbitrary: fc.constant({ kind: 'reconnect' as const }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'join' as const }) },
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 30 }), async (steps) => {
        const channel = `doc:prop-${run++}`;
        const tapped = tap();
        const subscriber = client({ WebSocket: tapped.WebSocket });
        const got: Publication[] = [];
        const subscription = subscriber.subscribe(channel, { delta: true });
        subscription.on('publication', (publication) => got.push(publication));
        await subscription.ready;
        const publisher = client();
        const sent: unknown[] = [];
        const latecomers: Array<{ got: unknown[]; from: number }> = [];
        const current = document(0);
        const items = current.items as Array<Record<string, unknown>>;
        for (const s of steps) {
          if (s.kind === 'reconnect') {
            // Dropped without a close frame: the client resumes from its last position.
            tapped.sockets.at(-1)?.terminate();
            continue;
          }
          if (s.kind === 'join') {
            // A subscriber joining mid-stream starts from a base, then patches.
            const late = { got: [] as unknown[], from: sent.length };
            const handle = client().subscribe(channel, { delta: true });
            handle.on('publication', (publication) => late.got.push(publication.data));
            await handle.ready;
            late.from = sent.length;
            latecomers.push(late);
            continue;
          }
          (items[s.item] as Record<string, unknown>)[s.field] = s.value;
          const data = structuredClone(current);
          sent.push(data);
          await publisher.publish(channel, data);
        }
        await waitFor(() => got.length >= sent.length, `${sent.length} publications on ${channel}`, 10_000);
        assert.deepEqual(
          got.map((publication) => publication.data),
          sent,
        );
        assert.deepEqual(
          got.map((publication) => publication.position?.off),
          sent.map((_, i) => i + 1),
        );
        for (const late of latecomers) {
          await waitFor(() => late.got.length >= sent.length - late.from, 'a latecomer got the rest', 10_000);
          assert.deepEqual(late.got, sent.slice(late.from));
        }
      }),
      { numRuns: 12 },
    );
    const saved = await (await fetch(`${hub.http}/metrics`)).text();
    const line = saved.split('\n').find((text) => text.startsWith('switchboard_delta_saved_bytes_total'));
    console.log(`hub metric: ${line}`);
    assert.ok(Number(line?.split(' ')[1]) > 0);
  });
});
