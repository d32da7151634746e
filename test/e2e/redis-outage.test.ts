import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '@switchboard/protocol';
import { RawClient } from '../support/raw-client.js';
import { useRedisHub } from '../support/redis-hub.js';
import { waitFor } from '../support/wait.js';

describe('a hub whose Redis goes away', () => {
  const fixture = useRedisHub();

  it('reports not ready, keeps clients connected, refuses publishes with 108, and recovers', async () => {
    const client = await RawClient.connected(fixture.hub.url);
    await client.ok({ t: 'sub', ch: 'outage' });
    await client.ok({ t: 'pub', ch: 'outage', d: 'before' });

    await fixture.redis.kill9();
    await waitFor(() => !fixture.hub.node.broker.isReady(), 'the broker to notice');
    const ready = await fetch(`${fixture.hub.http}/readyz`);
    assert.equal(ready.status, 503);
    const body = (await ready.json()) as { status: string; reasons: string[] };
    assert.equal(body.status, 'not ready');
    // The reason names the Redis; the cluster state shares it, so it may already be reported too.
    const named = `redis 127.0.0.1:${fixture.redis.port} does not`;
    assert.ok(
      body.reasons.some((reason) => reason.startsWith(named)),
      body.reasons.join(', '),
    );
    const refused = await client.request({ t: 'pub', ch: 'outage', d: 'during' });
    assert.equal(refused.t === 'err' && refused.code, ErrorCode.NOT_AVAILABLE);
    assert.equal(refused.t === 'err' && refused.tmp, true);
    const http = await fetch(`${fixture.hub.http}/api/publish`, {
      method: 'POST',
      body: JSON.stringify({ channel: 'outage', data: 1 }),
    });
    assert.equal(http.status, 503);
    assert.equal(client.closed, undefined, 'the client stays connected');

    await fixture.redis.start();
    await waitFor(() => fixture.hub.node.broker.isReady(), 'the broker to reconnect', 15_000);
    assert.equal((await fetch(`${fixture.hub.http}/readyz`)).status, 200);
    await client.ok({ t: 'pub', ch: 'outage', d: 'after' });
    await waitFor(() => client.publications('outage').some((p) => p.d === 'after'), 'delivery after the outage');
    assert.deepEqual(
      client.publications('outage').map((p) => p.d),
      ['before', 'after'],
    );
    client.close();
  });
});
