import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startHub } from '../../support/hub.js';
import { RawClient } from '../../support/raw-client.js';
import { waitFor } from '../../support/wait.js';

/** The value of one sample line of the Prometheus text format. */
function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

describe('GET /metrics', () => {
  it('shows connections, subscriptions, publications, deliveries, latency and recoveries with live values', async () => {
    const hub = await startHub();
    const metrics = async () => (await fetch(`${hub.http}/metrics`)).text();
    const a = await RawClient.connected(hub.url);
    const b = await RawClient.connected(hub.url, 'json');
    const top = (await a.ok({ t: 'pub', ch: 'secret-channel-name', d: 1 })) as { ep: string; off: number };
    await a.ok({ t: 'sub', ch: 'secret-channel-name' });
    await b.ok({ t: 'sub', ch: 'secret-channel-name', since: { ep: top.ep, off: 0 } });
    await a.ok({ t: 'pub', ch: 'secret-channel-name', d: 2 });
    await waitFor(() => b.publications().length === 2, 'the deliveries');

    const live = await metrics();
    assert.equal(sample(live, 'switchboard_connections'), 2);
    assert.equal(sample(live, 'switchboard_subscriptions'), 2);
    assert.equal(sample(live, 'switchboard_channels'), 1);
    assert.equal(sample(live, 'switchboard_publications_total'), 1);
    assert.equal(sample(live, 'switchboard_deliveries_total'), 2);
    assert.ok(sample(live, 'switchboard_delivered_bytes_total') > 0);
    assert.equal(sample(live, 'switchboard_delivery_latency_seconds_count'), 1);
    assert.equal(sample(live, 'switchboard_recoveries_total{outcome="recovered",reason=""}'), 1);
    assert.equal(sample(live, 'switchboard_client_publishes_total{target="broker",outcome="accepted"}'), 2);
    assert.ok(sample(live, 'nodejs_eventloop_lag_seconds') >= 0, 'event-loop lag');
    assert.ok(!live.includes('secret-channel-name'), 'no channel ever becomes a label');

    b.close();
    await waitFor(() => hub.node.sessions.size === 1, 'the close');
    const after = await metrics();
    assert.equal(sample(after, 'switchboard_connections'), 1);
    assert.equal(sample(after, 'switchboard_connections_opened_total'), 2);
    assert.equal(sample(after, 'switchboard_connections_closed_total{code="1005"}'), 1);
    a.close();
    await hub.stop();
  });
});

describe('GET /metrics behind a door', () => {
  const KEY = 'a-metrics-test-api-key-of-24+-characters';

  it('on the public port, needs the API key when one is configured', async () => {
    const hub = await startHub({ http: { apiKey: KEY } });
    const without = await fetch(`${hub.http}/metrics`);
    assert.equal(without.status, 401);
    assert.match(await without.text(), /API key/);
    const wrong = await fetch(`${hub.http}/metrics`, { headers: { authorization: 'Bearer not-the-key' } });
    assert.equal(wrong.status, 401);
    const right = await fetch(`${hub.http}/metrics`, { headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(right.status, 200);
    assert.match(await right.text(), /switchboard_connections/);
    await hub.stop();
  });

  it('with http.internalPort, is served there only, next to the probes', async () => {
    const hub = await startHub({ http: { apiKey: KEY, internalPort: 0 } });
    const internal = `http://127.0.0.1:${hub.node.internalPort}`;
    assert.ok(hub.node.internalPort && hub.node.internalPort !== hub.port);
    const publicMetrics = await fetch(`${hub.http}/metrics`, { headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(publicMetrics.status, 404);
    assert.match(await publicMetrics.text(), /internal port/);
    const scraped = await fetch(`${internal}/metrics`);
    assert.equal(scraped.status, 200);
    assert.match(await scraped.text(), /switchboard_connections/);
    assert.equal((await fetch(`${internal}/healthz`)).status, 200);
    assert.equal((await fetch(`${internal}/readyz`)).status, 200);
    assert.equal((await fetch(`${internal}/api/publish`, { method: 'POST', body: '{}' })).status, 404);
    await hub.stop();
    await assert.rejects(fetch(`${internal}/healthz`), 'the internal listener closes with the hub');
  });
});
