import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it, mock } from 'node:test';
import { CloseCode, ErrorCode } from '@switchboard/protocol';
import { USER_CONNECTION_TTL_MS, UserConnections } from '../../../src/cluster/user-connections.js';
import { MemoryUserStore } from '../../../src/cluster/user-store.js';
import { createLogger } from '../../../src/log.js';
import { connectWith, mint, SECRET } from '../../security/support.js';
import { type RedisService, startRedis } from '../../services/index.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { RawClient } from '../../support/raw-client.js';
import { waitFor } from '../../support/wait.js';

const log = createLogger('silent');
const API_KEY = 'user-connections-test-api-key';

/** A real memory store that also records what it was asked. */
class RecordingUserStore extends MemoryUserStore {
  readonly calls: string[] = [];

  override async admitConnection(user: string, client: string, max: number, ttlMs: number): Promise<boolean> {
    this.calls.push(`admit ${user} ${client}`);
    return super.admitConnection(user, client, max, ttlMs);
  }

  override async releaseConnection(user: string, client: string): Promise<void> {
    this.calls.push(`release ${user} ${client}`);
    return super.releaseConnection(user, client);
  }

  override async refreshConnections(entries: ReadonlyArray<readonly [string, string]>, ttlMs: number): Promise<void> {
    this.calls.push(`refresh ${entries.map(([user, client]) => `${user}/${client}`).join(',')} ${ttlMs}`);
    return super.refreshConnections(entries, ttlMs);
  }
}

describe('UserConnections, one hub’s part of limits.maxConnectionsPerUser', () => {
  afterEach(() => mock.timers.reset());

  it('with no limit (0) admits everyone and asks the store nothing', async () => {
    const store = new RecordingUserStore();
    const connections = new UserConnections(store, 0, log);
    connections.start();
    assert.equal(connections.limited, false);
    for (let i = 0; i < 5; i++) assert.equal(await connections.admit('alice', `h.${i}`), true);
    connections.release('h.1');
    connections.stop();
    assert.deepEqual(store.calls, []);
  });

  it('admits up to the limit across its connections and releases each once', async () => {
    const store = new RecordingUserStore();
    const connections = new UserConnections(store, 2, log);
    assert.equal(await connections.admit('alice', 'h.1'), true);
    assert.equal(await connections.admit('alice', 'h.2'), true);
    assert.equal(await connections.admit('alice', 'h.3'), false);
    connections.release('h.1');
    connections.release('h.1');
    connections.release('h.3');
    assert.deepEqual(store.calls.slice(3), ['release alice h.1'], 'a refused or released connection is not released');
    assert.equal(await connections.admit('alice', 'h.3'), true);
  });

  it(`keeps its connections counted while it runs, refreshing them every ${USER_CONNECTION_TTL_MS / 3000} s, and lets them lapse ${USER_CONNECTION_TTL_MS / 1000} s after it stops`, async () => {
    mock.timers.enable({ apis: ['setInterval', 'Date'], now: 1_000_000 });
    const store = new RecordingUserStore();
    const connections = new UserConnections(store, 1, log);
    connections.start();
    assert.equal(await connections.admit('alice', 'h.1'), true);
    // Five refreshes over 100 s: without them the entry would have lapsed at 60 s.
    for (let i = 0; i < 5; i++) {
      mock.timers.tick(USER_CONNECTION_TTL_MS / 3);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(store.calls.filter((call) => call === `refresh alice/h.1 ${USER_CONNECTION_TTL_MS}`).length, 5);
    assert.equal(await store.admitConnection('alice', 'elsewhere.1', 1, USER_CONNECTION_TTL_MS), false);
    connections.stop();
    mock.timers.tick(USER_CONNECTION_TTL_MS);
    assert.equal(store.calls.filter((call) => call.startsWith('refresh')).length, 5, 'no refresh once stopped');
    assert.equal(await store.admitConnection('alice', 'elsewhere.1', 1, USER_CONNECTION_TTL_MS), true);
  });

  it('refreshes nothing when it holds no connection, and only the connections still open', async () => {
    mock.timers.enable({ apis: ['setInterval'] });
    const store = new RecordingUserStore();
    const connections = new UserConnections(store, 3, log);
    connections.start();
    mock.timers.tick(USER_CONNECTION_TTL_MS / 3);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(store.calls, []);
    await connections.admit('alice', 'a.1');
    await connections.admit('bob', 'b.1');
    await connections.admit('bob', 'b.2');
    connections.release('b.1');
    mock.timers.tick(USER_CONNECTION_TTL_MS / 3);
    await new Promise((resolve) => setImmediate(resolve));
    connections.stop();
    assert.equal(store.calls.at(-1), `refresh alice/a.1,bob/b.2 ${USER_CONNECTION_TTL_MS}`);
  });
});

const token = (claims: Record<string, unknown>) => mint(claims, { alg: 'HS256' });

describe('a hub releases a counted connection on every close path (two hubs on one Redis, cap 1)', () => {
  let redis: RedisService;
  const hubs: TestHub[] = [];
  let next = 0;
  /** A user of its own for each test. */
  const user = () => `user-${process.pid}-${++next}`;
  const config = () =>
    ({
      broker: { type: 'redis', url: redis.url, prefix: 'uc:' },
      auth: { keys: [{ alg: 'HS256', secret: SECRET }], clockToleranceSeconds: 0 },
      http: { apiKey: API_KEY },
      limits: { maxConnectionsPerUser: 1 },
    }) as Parameters<typeof startHub>[0];
  const hub = (index: number) => hubs[index] as TestHub;
  const api = (method: string, body: object) =>
    fetch(`${hub(0).http}/api/${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify(body),
    });

  /** Whether `name` may open a connection now, on the other hub (closing it again). */
  async function admittedAgain(name: string, on = 1): Promise<boolean> {
    const { client, reply } = await connectWith(hub(on).url, await token({ sub: name }));
    client.close();
    await client.waitClosed();
    return reply.t === 'ok';
  }

  async function openOne(name: string, claims: Record<string, unknown> = {}): Promise<RawClient> {
    const { client, reply } = await connectWith(hub(0).url, await token({ sub: name, ...claims }));
    assert.equal(reply.t, 'ok', JSON.stringify(reply));
    assert.equal(await admittedAgain(name), false, 'the cap holds while the connection is open');
    return client;
  }

  before(async () => {
    redis = await startRedis();
    hubs.push(await startHub(config()), await startHub(config()));
  });
  after(async () => {
    for (const running of hubs) await running.stop();
    await redis.destroy();
  });

  it('the client closes its socket', async () => {
    const name = user();
    const client = await openOne(name);
    client.close();
    await waitFor(() => hub(0).node.sessions.size === 0, 'the hub to see the close');
    assert.equal(await admittedAgain(name), true);
  });

  it('the server API disconnects it', async () => {
    const name = user();
    const client = await openOne(name);
    assert.equal((await api('disconnect', { user: name })).status, 200);
    assert.equal((await client.waitClosed()).code, CloseCode.SERVER_DISCONNECT);
    assert.equal(await admittedAgain(name), true);
  });

  it('its credentials expire (4004)', async () => {
    const name = user();
    const client = await openOne(name);
    assert.equal((await api('refresh', { user: name, expireAt: Date.now() + 50 })).status, 200);
    assert.equal((await client.waitClosed()).code, CloseCode.TOKEN_EXPIRED);
    assert.equal(await admittedAgain(name), true);
  });

  it('its connect is refused because the token was revoked (the admission made meanwhile is undone)', async () => {
    const name = user();
    assert.equal((await api('revoke', { tokenId: `${name}-old`, until: Date.now() + 60_000 })).status, 200);
    const { client, reply } = await connectWith(hub(0).url, await token({ sub: name, jti: `${name}-old` }));
    assert.equal(reply.t === 'err' && reply.code, ErrorCode.UNAUTHORIZED);
    assert.equal((await client.waitClosed()).code, CloseCode.UNAUTHORIZED);
    assert.equal(await admittedAgain(name), true);
  });

  it('the socket closes while its connect is being admitted', async () => {
    const name = user();
    const credential = await token({ sub: name });
    // Closed right behind the connect frame: the hub sees the close before, during or after admitting it.
    for (let i = 0; i < 10; i++) {
      const client = await RawClient.open(hub(0).url);
      client.send({ t: 'connect', id: 1, token: credential });
      client.close();
      await client.waitClosed();
    }
    await waitFor(() => hub(0).node.sessions.size === 0, 'every socket to close');
    assert.equal(await admittedAgain(name), true);
  });

  it('its hub stops (shut down with 4000)', async () => {
    const name = user();
    const client = await openOne(name);
    const stopping = hub(0);
    await stopping.stop();
    assert.equal((await client.waitClosed()).code, CloseCode.SHUTDOWN);
    assert.equal(await admittedAgain(name), true);
    hubs[0] = await startHub(config());
  });
});
