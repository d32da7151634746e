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
