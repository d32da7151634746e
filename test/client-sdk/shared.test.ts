import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { type Client, shared } from '../../client-sdk/src/index.js';
import { startHub, type TestHub } from '../support/hub.js';
import { waitFor } from '../support/wait.js';

describe('shared', { timeout: 30_000 }, () => {
  let hub: TestHub;
  const clients = new Set<Client>();
  const get = (url: string) => {
    const client = shared(url, { WebSocket });
    clients.add(client);
    return client;
  };

  before(async () => {
    hub = await startHub();
  });

  after(async () => {
    for (const client of clients) client.close();
    await hub.stop();
  });

  it('gives independent components of one URL the same client, and so one socket', async () => {
    const feed = get(hub.url).subscribe('feed');
    const badge = get(hub.url).subscribe('badge');
    assert.equal(get(hub.url), get(hub.url));
    await Promise.all([feed.ready, badge.ready]);
    assert.equal(hub.node.sessions.size, 1);
    assert.deepEqual([...([...hub.node.sessions][0]?.channels ?? [])].sort(), ['badge', 'feed']);
  });

  it('gives another URL another client', () => {
    assert.notEqual(get(hub.url), get(`${hub.url}?other`));
  });

  it('replaces a client once it is closed', async () => {
    const first = get(hub.url);
    first.close();
    const second = get(hub.url);
    assert.notEqual(second, first);
    assert.equal(second.state, 'idle');
    await second.subscribe('again').ready;
    await waitFor(() => hub.node.sessions.size === 1, 'the closed client to leave');
  });
});
