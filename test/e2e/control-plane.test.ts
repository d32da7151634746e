import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, type DisconnectedEvent, type Subscription } from '@switchboard/client';
import { CloseCode, ErrorCode } from '@switchboard/protocol';
import WebSocket from 'ws';
import { METHODS } from '../../src/api/methods.js';
import { mint, SECRET } from '../security/support.js';
import { type RedisService, startRedis } from '../services/index.js';
import { type Cluster, startCluster } from '../support/cluster.js';
import { startHub, type TestHub } from '../support/hub.js';
import { RawClient } from '../support/raw-client.js';
import { RoomMember } from '../support/room-member.js';
import { sleep, waitFor } from '../support/wait.js';

const API_KEY = 'a-server-api-key-for-the-control-plane-test';
const ROOM = 'room:big';
const PRESENCE = { ttlSeconds: 6, pushIntervalMs: 1_000, maxChangesPerPush: 200 };
/** Enough for 2,000 connections through HAProxy, which all come from 127.0.0.1. */
const LIMITS = { maxConnectionsPerIp: 10_000, connectsPerSecondPerIp: 10_000, connectBurstPerIp: 10_000 };

const HUB_CONFIG = {
  auth: { keys: [{ alg: 'HS256', secret: SECRET }] },
  http: { apiKey: API_KEY },
  limits: LIMITS,
  presence: PRESENCE,
  namespaces: {
    room: { subscribe: 'authenticated', presence: { enabled: true, joinLeave: true } },
    news: { subscribe: 'granted' },
  },
};

const token = (user: string) => mint({ sub: user }, { alg: 'HS256' });

async function api(base: string, method: string, body: unknown, key: string | null = API_KEY) {
  const response = await fetch(`${base}/api/${method}`, {
    method: 'POST',
    headers: key ? { authorization: `Bearer ${key}` } : {},
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function ok(base: string, method: string, body: unknown): Promise<Record<string, unknown>> {
  const answer = await api(base, method, body);
  assert.equal(answer.status, 200, `${method}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

function sdk(url: string, user: string): Client {
  return new Client(url, { WebSocket, token: () => token(user), backoff: { initialMs: 50, maxMs: 500 } });
}

/** Connects `client` and resolves once its connect reply came. */
function connected(client: Client): Promise<void> {
  return new Promise((resolve) => {
    const off = client.on('connected', () => {
      off();
      resolve();
    });
    client.connect();
  });
}

/** An SDK client that keeps the room's presence from one snapshot and the join/leave pushes after it. */
class Observer {
  readonly members = new Set<string>();
  /** When each `pres` push arrived. */
  readonly pushes: number[] = [];

  private constructor(
    readonly client: Client,
    readonly subscription: Subscription,
  ) {
    subscription.on('presence', ({ join, leave }) => {
      this.pushes.push(Date.now());
      for (const member of leave) this.members.delete(member.client);
      for (const member of join) this.members.add(member.client);
    });
  }

  static async start(url: string, user: string): Promise<Observer> {
    const client = sdk(url, user);
    const subscription = client.subscribe(ROOM);
    await subscription.ready;
    const observer = new Observer(client, subscription);
    for (const member of await subscription.presence()) observer.members.add(member.client);
    return observer;
  }

  pushesBetween(from: number, to: number): number {
    return this.pushes.filter((at) => at >= from && at < to).length;
  }
}

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>) => a.size === b.size && [...a].every((x) => b.has(x));

describe('the control plane on three hubs behind HAProxy, with real Redis', () => {
  let cluster: Cluster;
  let base: string;
  const clients: Client[] = [];
  before(async () => {
    cluster = await startCluster({ hubs: 3, config: () => HUB_CONFIG });
    base = cluster.hubs[0]?.http as string;
  });
  after(async () => {
    for (const client of clients) client.close();
    await cluster?.stop();
  });

  it('every method refuses a caller without the API key, and a bad body with 400 and a reason', async () => {
    for (const method of Object.keys(METHODS)) {
      const anonymous = await api(base, method, {}, null);
      assert.equal(anonymous.status, 401, method);
      const notJson = await api(base, method, '{"channel":');
      assert.deepEqual(notJson, { status: 400, body: { error: 'body is not valid JSON' } }, method);
      const unknown = await api(base, method, { noSuchField: 1 });
      assert.equal(unknown.status, 400, method);
      assert.match(String(unknown.body.error), /\S/, method);
    }
    const wrongType = await api(base, 'disconnect', { user: 'x', code: 'soon' });
    assert.deepEqual(wrongType, {
      status: 400,
      body: { error: 'code: Invalid input: expected number, received string' },
    });
    const contradiction = await api(base, 'disconnect', { user: 'x', code: 4501, reconnect: true });
    assert.equal(contradiction.status, 400);
    const document = await (await fetch(`${base}/api/openapi.json`)).json();
    assert.deepEqual(
      Object.keys((document as { paths: object }).paths).sort(),
      Object.keys(METHODS)
        .map((name) => `/api/${name}`)
        .sort(),
    );
    console.log(
      `# ${Object.keys(METHODS).length} methods: each refused without the key (401) and for bad bodies (400)`,
    );
  });

  it('disconnect closes all 6 connections of a user, spread over the hubs, within 1 s with the given code', async () => {
    const closes: Array<{ at: number; event: DisconnectedEvent }> = [];
    for (const hub of cluster.hubs) {
      for (let i = 0; i < 2; i++) {
        const client = sdk(hub.url, 'u-many');
        clients.push(client);
        client.on('disconnected', (event) => closes.push({ at: Date.now(), event }));
        await connected(client);
      }
    }
    const started = Date.now();
    const answer = await ok(base, 'disconnect', { user: 'u-many', code: 4510, reason: 'banned' });
    assert.equal(answer.connections, 6);
    assert.deepEqual(answer.hubs, { asked: 3, answered: 3, missing: [], failed: [], complete: true });
    await waitFor(() => closes.length === 6, 'six closes', 1_000);
    const slowest = Math.max(...closes.map(({ at }) => at - started));
    for (const { event } of closes) assert.deepEqual(event, { code: 4510, reason: 'banned', reconnect: false });
    console.log(`# disconnect: 6 connections on 3 hubs closed with 4510, the last ${slowest} ms after the call`);
  });

  it('a server-side subscribe reaches every connection of the user and survives their reconnects', async () => {
    const subscribed = new Map<Client, Subscription>();
    const received = new Map<Client, number[]>();
    const open = async (): Promise<Client> => {
      const client = sdk(cluster.url, 'u-srv');
      clients.push(client);
      received.set(client, []);
      client.on('subscription', (subscription) => {
        subscribed.set(client, subscription);
        subscription.on('publication', ({ data }) => received.get(client)?.push((data as { n: number }).n));
      });
      await connected(client);
      return client;
    };
    const three = [await open(), await open(), await open()];
    const answer = await ok(base, 'subscribe', { user: 'u-srv', channel: 'news:srv' });
    assert.equal(answer.connections, 3);
    await waitFor(() => three.every((client) => subscribed.get(client)?.state === 'subscribed'), 'three subd');
    for (let n = 1; n <= 5; n++) await ok(base, 'publish', { channel: 'news:srv', data: { n } });
    // Every connection of the user reconnects (4007: reconnect), meanwhile three more are published.
    const dropped = await ok(base, 'disconnect', { user: 'u-srv' });
    assert.equal(dropped.connections, 3);
    for (let n = 6; n <= 8; n++) await ok(base, 'publish', { channel: 'news:srv', data: { n } });
    await waitFor(() => three.every((client) => client.state === 'connected'), 'three reconnected', 10_000);
    for (let n = 9; n <= 10; n++) await ok(base, 'publish', { channel: 'news:srv', data: { n } });
    const all = Array.from({ length: 10 }, (_, i) => i + 1);
    await waitFor(() => three.every((client) => received.get(client)?.length === 10), 'ten each', 10_000);
    for (const client of three) assert.deepEqual(received.get(client), all);
    // A connection the user opens later is subscribed at connect: the subscription is the user's.
    const fourth = await open();
    await waitFor(() => subscribed.get(fourth)?.state === 'subscribed', 'the later connection subscribed');
    const answered = await ok(base, 'unsubscribe', { user: 'u-srv', channel: 'news:srv' });
    assert.equal(answered.connections, 4);
    console.log(
      '# server-side subscription: 3 connections got 10 of 10 across a reconnect (3 recovered), a 4th at connect',
    );
  });

  it('channels and info count exactly', async () => {
    const info = await ok(base, 'info', {});
    const hubs = info.hubs as Array<{ connections: number }>;
    assert.equal(hubs.length, 3);
    // The four u-srv connections; u-many's six were closed for good.
    assert.equal(
      hubs.reduce((sum, hub) => sum + hub.connections, 0),
      4,
    );
    const channels = await ok(base, 'channels', { pattern: 'news:*' });
    assert.deepEqual(channels.channels, []);
    await ok(base, 'subscribe', { user: 'u-srv', channel: 'news:again' });
    await sleep(200);
    const listed = await ok(base, 'channels', { pattern: 'news:*' });
    const [entry] = listed.channels as Array<{ channel: string; subscribers: number; local: number }>;
    assert.equal(entry?.channel, 'news:again');
    assert.equal(entry?.subscribers, 4);
    console.log(
      `# info: 3 hubs, 4 connections; channels: news:again with 4 subscribers (${entry?.local} on the answering hub)`,
    );
  });

  it('presence of a 2,000-member room: converges within its bound under 20% reconnecting, with at most one push per hub per second; a killed hub leaves within the ttl', async () => {
    const observers = await Promise.all(
      Array.from({ length: 5 }, (_, i) => Observer.start(cluster.hubs[0]?.url as string, `obs${i}`)),
    );
    for (const observer of observers) clients.push(observer.client);
    const truth = () => new Set([...members.filter((m) => !m.closed).map((m) => m.client), ...observerIds]);
    const observerIds = new Set(observers.flatMap((o) => [...o.members]));
    const members: RoomMember[] = [];
    const joinStarted = Date.now();
    for (let batch = 0; batch < 2_000; batch += 100) {
      const tokens = await Promise.all(Array.from({ length: 100 }, (_, i) => token(`m${batch + i}`)));
      members.push(...(await Promise.all(tokens.map((t) => RoomMember.join(cluster.url, t, ROOM)))));
    }
    const joined = Date.now();
    const listed = async () =>
      new Set(
        ((await ok(base, 'presence', { channel: ROOM })).clients as Array<{ client: string }>).map((c) => c.client),
      );
    assert.deepEqual((await ok(base, 'presence_stats', { channel: ROOM })).clients, 2_005);
    assert.ok(sameSet(await listed(), truth()));
    // Pushed views: 2,000 joins, about 667 per hub, 200 a push: four intervals.
    await waitFor(() => observers.every((o) => sameSet(o.members, truth())), 'observers to see 2,005', 15_000);
    console.log(
      `# presence: 2,000 members joined in ${joined - joinStarted} ms; observers' pushed views complete ${Date.now() - joined} ms later`,
    );

    // 20% reconnect: each closes and comes back with a new connection id.
    const churnStarted = Date.now();
    for (let i = 0; i < 400; i += 50) {
      const leaving = members.splice(Math.floor(Math.random() * (members.length - 50)), 50);
      for (const member of leaving) member.close();
      const tokens = await Promise.all(leaving.map((_, k) => token(`r${i + k}`)));
      members.push(...(await Promise.all(tokens.map((t) => RoomMember.join(cluster.url, t, ROOM)))));
    }
    const churned = Date.now();
    await waitFor(() => members.every((m) => m.client !== ''), 'reconnections');
    const storeStarted = Date.now();
    let storeMs = 0;
    await waitFor(
      () => {
        void listed().then((set) => {
          if (storeMs === 0 && sameSet(set, truth())) storeMs = Date.now() - storeStarted;
        });
        return storeMs > 0;
      },
      'the presence store to hold the true set',
      5_000,
    );
    // Bound: leaves and joins of one hub (~267 here) at 200 a push, one push per second: 2 s, plus one interval.
    const boundMs = (Math.ceil(270 / PRESENCE.maxChangesPerPush) + 1) * PRESENCE.pushIntervalMs + 1_000;
    await waitFor(() => observers.every((o) => sameSet(o.members, truth())), 'observers to converge', boundMs);
    const convergedMs = Date.now() - churned;
    // Each hub pushes at most once per interval: within any span of T, at most floor(T / interval) + 1
    // times per hub, whatever the span's alignment with the hubs' timers (a rate over a 2 s span
    // could read 4/s with every hub keeping its bound).
    // Pushes are counted as they arrive: a push sent up to DELIVERY_MS before the span may land in it.
    const DELIVERY_MS = 250;
    const allowed = (ms: number) => 3 * (Math.floor((ms + DELIVERY_MS) / PRESENCE.pushIntervalMs) + 1);
    const churnMs = Date.now() - churnStarted;
    const churnPushes = Math.max(...observers.map((o) => o.pushesBetween(churnStarted, Date.now())));
    const bulkMs = Date.now() - joinStarted;
    const bulkPushes = Math.max(...members.map((m) => m.pushes));
    console.log(
      `# presence churn: 400 of 2,000 reconnected in ${churned - churnStarted} ms; store exact ${storeMs} ms after, pushed views ${convergedMs} ms after (bound ${boundMs} ms); pres pushes per subscriber: ${churnPushes} in ${churnMs} ms while churning (bound ${allowed(churnMs)}), ${bulkPushes} in ${bulkMs} ms overall (bound ${allowed(bulkMs)}): ${((1000 * bulkPushes) / bulkMs).toFixed(2)}/s against ${3 / (PRESENCE.pushIntervalMs / 1000)}/s`,
    );
    assert.ok(churnPushes <= allowed(churnMs), `${churnPushes} pushes in ${churnMs} ms`);
    assert.ok(bulkPushes <= allowed(bulkMs), `${bulkPushes} pushes in ${bulkMs} ms`);

    // kill -9 the third hub: its members stop being refreshed and expire.
    const killed = cluster.hubs[2];
    const probe = await RawClient.open(killed?.url as string);
    const named = await probe.request({ t: 'connect', token: await token('probe') });
    const killedName = named.t === 'ok' ? (named.r as { node: string }).node : '';
    probe.close();
    const onKilled = members.filter((m) => m.node === killedName);
    assert.ok(onKilled.length > 500, `${onKilled.length} members on the hub to kill`);
    killed?.process.kill9();
    const killedAt = Date.now();
    await waitFor(() => onKilled.every((m) => m.closed) && onKilled.length > 0, 'the dead hub’s sockets to close');
    for (const member of members) if (member.closed) member.close();
    let goneMs = 0;
    await waitFor(
      () => {
        void listed().then((set) => {
          if (goneMs === 0 && sameSet(set, truth())) goneMs = Date.now() - killedAt;
        });
        return goneMs > 0;
      },
      'the dead hub’s members to leave presence',
      ((PRESENCE.ttlSeconds * 4) / 3) * 1000 + 2_000,
    );
    await waitFor(() => observers.every((o) => sameSet(o.members, truth())), 'observers to hear the leaves', 15_000);
    const heardMs = Date.now() - killedAt;
    const missing = await ok(base, 'info', {});
    console.log(
      `# kill -9 of a hub with ${onKilled.length} members: gone from presence after ${goneMs} ms (ttl ${PRESENCE.ttlSeconds} s + a third), leave pushes heard after ${heardMs} ms; info then: ${JSON.stringify(missing.answered)}`,
    );
    for (const member of members) member.close();
  });
});

describe('limits.maxConnectionsPerUser across hubs (two hubs on one Redis)', () => {
  const hubs: TestHub[] = [];
  let redis: RedisService | undefined;
  before(async () => {
    redis = await startRedis();
    for (let i = 0; i < 2; i++) {
      hubs.push(
        await startHub({
          broker: { type: 'redis', url: redis.url, prefix: 'cap:' },
          auth: { keys: [{ alg: 'HS256', secret: SECRET }] },
          limits: { maxConnectionsPerUser: 4 },
        } as Parameters<typeof startHub>[0]),
      );
    }
  });
  after(async () => {
    for (const hub of hubs) await hub.stop();
    await redis?.destroy();
  });

  it('refuses the 5th connection of a user with a cap of 4 with error 106 and close 4005', async () => {
    const connect = async (hub: TestHub) => {
      const client = await RawClient.open(hub.url);
      return { client, reply: await client.request({ t: 'connect', token: await token('capped') }) };
    };
    const four = await Promise.all([0, 1, 0, 1].map((i) => connect(hubs[i] as TestHub)));
    for (const { reply } of four) assert.equal(reply.t, 'ok', JSON.stringify(reply));
    const fifth = await connect(hubs[0] as TestHub);
    assert.equal(fifth.reply.t, 'err');
    assert.equal(fifth.reply.t === 'err' && fifth.reply.code, ErrorCode.LIMIT_EXCEEDED);
    assert.equal((await fifth.client.waitClosed()).code, CloseCode.CONNECTION_LIMIT);
    // One closes: the next one is admitted.
    four[3]?.client.close();
    await waitFor(() => four[3]?.client.closed !== undefined, 'the close');
    await sleep(100);
    const sixth = await connect(hubs[0] as TestHub);
    assert.equal(sixth.reply.t, 'ok');
    for (const { client } of [...four, sixth]) client.close();
    console.log(
      '# per-user cap 4 over 2 hubs: 4 admitted, the 5th refused (106, close 4005), admitted again once one closed',
    );
  });
});
