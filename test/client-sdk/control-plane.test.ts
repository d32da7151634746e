import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import WebSocket from 'ws';
import { hostOptions } from '../../client-sdk/src/connect.js';
import { Client, type PresenceMember, portLink, type Subscription, WorkerHost } from '../../client-sdk/src/index.js';
import type { PortLike } from '../../client-sdk/src/tab-protocol.js';
import { mint, SECRET } from '../security/support.js';
import { startHub, type TestHub } from '../support/hub.js';
import { waitFor } from '../support/wait.js';

const API_KEY = 'sdk-control-plane-test-api-key';
const FAST_BACKOFF = { initialMs: 10, maxMs: 50 };
const CONFIG = {
  auth: { keys: [{ alg: 'HS256', secret: SECRET }] },
  http: { apiKey: API_KEY },
  presence: { pushIntervalMs: 100 },
  namespaces: {
    room: { subscribe: 'authenticated', presence: { enabled: true, joinLeave: true, clientInfo: true } },
    news: { subscribe: 'authenticated' },
  },
} as unknown as Parameters<typeof startHub>[0];

const clientIds = (members: readonly PresenceMember[]) => members.map((member) => member.client).sort();

/**
 * The SDK's part of the control plane, once with a Client on its own socket and once as a tab
 * sharing the SharedWorker's connection (WorkerHost and a port link over a real MessageChannel).
 */
for (const mode of ['direct', 'shared'] as const) {
  describe(`the SDK and the control plane (${mode})`, { timeout: 30_000 }, () => {
    let hub: TestHub;
    const closers: Array<() => void> = [];

    async function api(method: string, body: object): Promise<Record<string, unknown>> {
      const response = await fetch(`${hub.http}/api/${method}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}` },
        body: JSON.stringify(body),
      });
      const answer = (await response.json()) as Record<string, unknown>;
      assert.equal(response.status, 200, JSON.stringify(answer));
      return answer;
    }

    /** A connected Client of `user`, and its connection id. */
    async function open(user: string): Promise<{ client: Client; id: string }> {
      const token = () => mint({ sub: user }, { alg: 'HS256' });
      let client: Client;
      if (mode === 'direct') {
        client = new Client(hub.url, { WebSocket, token, backoff: FAST_BACKOFF });
      } else {
        const host = new WorkerHost({ client: { WebSocket }, pingMs: 1_000 });
        const link = portLink({
          openPort: () => {
            const { port1, port2 } = new MessageChannel();
            host.accept(port2 as unknown as PortLike);
            closers.push(() => port1.close());
            return port1 as unknown as PortLike;
          },
          host: hostOptions({ backoff: FAST_BACKOFF, token }),
          token,
          pingMs: 1_000,
        });
        client = new Client(hub.url, { link, backoff: FAST_BACKOFF });
        closers.push(() => host.close());
      }
      closers.push(() => client.close());
      const id = new Promise<string>((resolve) => {
        const off = client.on('connected', (event) => {
          off();
          resolve((event as { client: string }).client);
        });
      });
      client.connect();
      return { client, id: await id };
    }

    /** Resolves with the Subscription the next `subscription` event of `client` announces. */
    const announced = (client: Client) =>
      new Promise<Subscription>((resolve) => {
        const off = client.on('subscription', (subscription) => {
          off();
          resolve(subscription);
        });
      });

    beforeEach(async () => {
      hub = await startHub(CONFIG);
    });
    afterEach(async () => {
      for (const close of closers.splice(0).reverse()) close();
      await hub.stop();
    });

    it('announces a server-side subscription as a `subscription` event, keeps it across reconnects without missing a publication, and ends it when the hub no longer lists it', async () => {
      const { client } = await open('una');
      const next = announced(client);
      await api('subscribe', { user: 'una', channel: 'news:srv' });
      const subscription = await next;
      assert.equal(subscription.channel, 'news:srv');
      const received: unknown[] = [];
      subscription.on('publication', ({ data }) => received.push(data));
      await waitFor(() => subscription.state === 'subscribed', 'subscribed');
      await api('publish', { channel: 'news:srv', data: 1 });
      await waitFor(() => received.length === 1, 'the first publication');
      let announcedAgain = 0;
      client.on('subscription', () => {
        announcedAgain += 1;
      });
      // Dropped by the server (4007: reconnect); one publication while it is away.
      await api('disconnect', { user: 'una' });
      await api('publish', { channel: 'news:srv', data: 2 });
      await waitFor(() => client.state === 'connected' && received.length === 2, 'the one missed, after reconnecting');
      assert.deepEqual(received, [1, 2]);
      assert.equal(announcedAgain, 0, 'the same handle carries on');
      // The hub forgets it without telling this connection; at the next connect it is not listed.
      await hub.node.cluster.users.removeServerSubscription('una', 'news:srv');
      const ended = new Promise((resolve) => subscription.on('unsubscribed', resolve));
      await api('disconnect', { user: 'una' });
      await ended;
      assert.equal(subscription.state, 'unsubscribed');
    });

    it('asks presence() and presenceStats() of a channel, and hears joins and leaves with what members show', async () => {
      const { client, id } = await open('vic');
      const subscription = client.subscribe('room:sdk', { info: { name: 'Vic' } });
      await subscription.ready;
      const joins: PresenceMember[] = [];
      const leaves: PresenceMember[] = [];
      subscription.on('join', (member) => joins.push(member));
      subscription.on('leave', (member) => leaves.push(member));
      const other = await open('wes');
      const theirs = other.client.subscribe('room:sdk', { info: 'Wes' });
      await theirs.ready;
      assert.deepEqual(clientIds(await subscription.presence()), [id, other.id].sort());
      const mine = (await subscription.presence()).find((member) => member.client === id);
      assert.deepEqual(mine, { client: id, user: 'vic', info: { name: 'Vic' } });
      assert.deepEqual(await theirs.presenceStats(), { clients: 2, users: 2 });
      await waitFor(() => joins.some((member) => member.client === other.id), 'the join');
      assert.deepEqual(
        joins.find((member) => member.client === other.id),
        { client: other.id, user: 'wes', info: 'Wes' },
      );
      theirs.unsubscribe();
      await waitFor(() => leaves.some((member) => member.client === other.id), 'the leave');
      assert.deepEqual(clientIds(await subscription.presence()), [id]);
    });

    it('rejects presence() where the namespace keeps none, with the hub’s error', async () => {
      const { client } = await open('xia');
      const subscription = client.subscribe('news:plain');
      await subscription.ready;
      await assert.rejects(subscription.presence(), (error: Error & { code?: number }) => {
        assert.equal(error.code, 107);
        return true;
      });
    });
  });
}
