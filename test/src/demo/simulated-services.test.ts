import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../src/config.js';
import { DEMO_CHANNELS } from '../../../src/demo/simulated-services.js';
import { startHub } from '../../support/hub.js';
import { RawClient } from '../../support/raw-client.js';
import { sleep, waitFor } from '../../support/wait.js';

describe('the demo’s simulated services (demo.enabled)', () => {
  it('publish orders, latency and alerts into the demo namespace, with times, while the hub runs', async () => {
    const hub = await startHub({ demo: { enabled: true } });
    const client = await RawClient.connected(hub.url);
    try {
      for (const channel of [DEMO_CHANNELS.orders, DEMO_CHANNELS.latency]) await client.ok({ t: 'sub', ch: channel });
      await waitFor(() => client.publications(DEMO_CHANNELS.latency).length >= 2, 'two latency samples', 5_000);
      await waitFor(() => client.publications(DEMO_CHANNELS.orders).length >= 1, 'an order', 5_000);
      const [latency] = client.publications(DEMO_CHANNELS.latency);
      const sample = latency?.d as { service: string; p50: number; p99: number; rps: number; at: number };
      assert.equal(sample.service, 'gateway');
      assert.ok(sample.p50 > 0 && sample.p50 < sample.p99, JSON.stringify(sample));
      assert.ok(Math.abs(Date.now() - sample.at) < 5_000);
      const order = client.publications(DEMO_CHANNELS.orders)[0]?.d as { id: string; amount: number; region: string };
      assert.match(order.id, /^A-\d+$/);
      assert.ok(order.amount > 0);
      // Published through the broker like a service's: positioned, so a page can recover them.
      assert.deepEqual(
        client.publications(DEMO_CHANNELS.latency).map((p) => p.off),
        [1, 2, 3, 4, 5, 6].slice(0, client.publications(DEMO_CHANNELS.latency).length),
      );
    } finally {
      client.close();
      await hub.stop();
    }
  });

  it('publish nothing when the switch is off', async () => {
    const hub = await startHub({ demo: { enabled: false } });
    const client = await RawClient.connected(hub.url);
    try {
      await client.ok({ t: 'sub', ch: DEMO_CHANNELS.latency });
      await sleep(1_500);
      assert.deepEqual(client.publications(DEMO_CHANNELS.latency), []);
    } finally {
      client.close();
      await hub.stop();
    }
  });

  it('are on by default, as npm start runs the hub (k8s turns them off: test/k8s)', () => {
    assert.equal(parseConfig({}).demo.enabled, true);
  });
});
