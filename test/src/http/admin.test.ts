import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AdminSnapshot } from '../../../src/admin/snapshot.js';
import { AdminAccess } from '../../../src/http/admin.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { RawClient } from '../../support/raw-client.js';
import { sleep, waitFor } from '../../support/wait.js';

const API_KEY = 'admin-test-key-0123456789abcdef';
const basic = (password: string) => `Basic ${Buffer.from(`anyone:${password}`).toString('base64')}`;

describe('GET /admin/api/snapshot', () => {
  let hub: TestHub;
  const snapshot = async () => {
    const response = await fetch(`${hub.http}/admin/api/snapshot`);
    assert.equal(response.status, 200);
    return AdminSnapshot.parse(await response.json());
  };
  before(async () => {
    hub = await startHub({ name: 'admin-test-hub' });
  });
  after(() => hub.stop());

  it('describes this hub: its connections, channels with subscribers and rates, fan-out', async () => {
    const clients = await Promise.all([RawClient.connected(hub.url), RawClient.connected(hub.url)]);
    for (const client of clients) await client.ok({ t: 'sub', ch: 'busy' });
    await clients[0]?.ok({ t: 'sub', ch: 'quiet' });
    const first = await snapshot();
    assert.equal(first.node.name, 'admin-test-hub');
    assert.equal(first.node.broker, 'memory');
    assert.deepEqual(first.node.notReady, []);
    assert.equal(first.node.demo, false);
    assert.equal(first.connections.open, 2);
    assert.equal(first.connections.subscriptions, 3);
    assert.equal(first.channels.total, 2);
    assert.deepEqual(
      first.channels.top.map(({ channel, subscribers }) => [channel, subscribers]),
      [
        ['busy', 2],
        ['quiet', 1],
      ],
    );
    // Ten publications within the next second: rates are differences between samples ≥ 1 s apart.
    for (let n = 0; n < 10; n += 1)
      await fetch(`${hub.http}/api/publish`, { method: 'POST', body: JSON.stringify({ channel: 'busy', data: n }) });
    await waitFor(() => (clients[1]?.publications('busy').length ?? 0) === 10, 'the ten publications');
    await sleep(1_000);
    const second = await snapshot();
    assert.equal(first.fanout.overSeconds, 0, 'no rate before a second sample');
    assert.ok(second.fanout.overSeconds >= 1, JSON.stringify(second.fanout));
    const busy = second.channels.top.find((row) => row.channel === 'busy');
    assert.ok(busy && busy.publicationsPerSecond > 3 && busy.publicationsPerSecond <= 10, JSON.stringify(busy));
    assert.ok(second.fanout.deliveriesPerSecond >= busy.publicationsPerSecond * 2, JSON.stringify(second.fanout));
    assert.equal(second.channels.top.find((row) => row.channel === 'quiet')?.publicationsPerSecond, 0);
    for (const client of clients) client.close();
    await waitFor(() => hub.node.sessions.size === 0, 'the clients to leave');
    const third = await snapshot();
    assert.equal(third.connections.open, 0);
    assert.ok((third.connections.closedByCode['1000'] ?? 0) + (third.connections.closedByCode['1005'] ?? 0) >= 2);
    assert.deepEqual(third.channels.top, []);
    assert.deepEqual(third.kafkaLag, []);
  });

  it('serves the admin page itself', async () => {
    const response = await fetch(`${hub.http}/admin`);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /<title>Switchboard admin<\/title>/);
    assert.equal((await fetch(`${hub.http}/admin/admin.js`)).status, 200);
  });
});

describe('who may see the admin view', () => {
  it('without http.apiKey: this machine only', () => {
    const access = new AdminAccess(undefined);
    assert.equal(access.check('', '127.0.0.1'), undefined);
    assert.equal(access.check('', '::1'), undefined);
    assert.deepEqual(access.check('', '203.0.113.5'), {
      status: '403 Forbidden',
      reason: 'without http.apiKey the admin view only serves this machine (loopback)',
    });
  });

  it('with http.apiKey: whoever presents it, as Bearer or as the Basic password, from anywhere', () => {
    const access = new AdminAccess(API_KEY);
    for (const peer of ['127.0.0.1', '203.0.113.5']) {
      assert.equal(access.check(`Bearer ${API_KEY}`, peer), undefined);
      assert.equal(access.check(basic(API_KEY), peer), undefined);
      for (const wrong of ['', `Bearer ${API_KEY}x`, basic('guess'), 'Basic !!!', 'Basic bm9jb2xvbg=='])
        assert.equal(access.check(wrong, peer)?.status, '401 Unauthorized', wrong);
    }
  });

  it('asks a browser for the key, and answers a wrong one with 401', async () => {
    const hub = await startHub({ http: { apiKey: API_KEY } });
    try {
      const refused = await fetch(`${hub.http}/admin`);
      assert.equal(refused.status, 401);
      assert.match(refused.headers.get('www-authenticate') ?? '', /^Basic realm="switchboard admin"/);
      assert.match(((await refused.json()) as { error: string }).error, /needs the API key/);
      const snapshot = await fetch(`${hub.http}/admin/api/snapshot`, { headers: { authorization: basic(API_KEY) } });
      assert.equal(snapshot.status, 200);
      const bearer = await fetch(`${hub.http}/admin/api/snapshot`, { headers: { authorization: `Bearer ${API_KEY}` } });
      assert.equal(bearer.status, 200);
    } finally {
      await hub.stop();
    }
  });

  it('is not served at all with admin.enabled off', async () => {
    const hub = await startHub({ admin: { enabled: false } });
    try {
      for (const path of ['/admin', '/admin/api/snapshot']) {
        const response = await fetch(`${hub.http}${path}`);
        assert.equal(response.status, 404, path);
      }
    } finally {
      await hub.stop();
    }
  });
});
