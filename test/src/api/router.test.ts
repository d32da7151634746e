import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { CloseCode, ErrorCode, type ServerFrame } from '@switchboard/protocol';
import { METHODS } from '../../../src/api/methods.js';
import { HUB_VERSION } from '../../../src/version.js';
import { connectWith, mint, SECRET } from '../../security/support.js';
import { startHub, type TestHub } from '../../support/hub.js';
import type { RawClient } from '../../support/raw-client.js';
import { waitFor } from '../../support/wait.js';

const API_KEY = 'router-test-api-key-0123456789';
const MAX_BODY = 2_048;
const CONFIG = {
  name: 'router-hub',
  auth: { keys: [{ alg: 'HS256', secret: SECRET }], clockToleranceSeconds: 0 },
  http: { apiKey: API_KEY },
  limits: { maxHttpBodyBytes: MAX_BODY },
  strictNamespaces: true,
  namespaces: {
    room: { subscribe: 'authenticated', presence: { enabled: true, joinLeave: true } },
    news: { subscribe: 'authenticated', history: { size: 100, ttlSeconds: 600 } },
    plain: { subscribe: 'authenticated' },
  },
} as unknown as Parameters<typeof startHub>[0];

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

describe('the server API router (POST /api/<method>) on a real hub', () => {
  let hub: TestHub;
  const open: RawClient[] = [];

  async function call(method: string, body: unknown, key: string | null = API_KEY, path = '/api'): Promise<Answer> {
    const response = await fetch(`${hub.http}${path}/${method}`, {
      method: 'POST',
      headers: key === null ? {} : { authorization: `Bearer ${key}` },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
  }

  async function ok(method: string, body: unknown): Promise<Record<string, unknown>> {
    const answer = await call(method, body);
    assert.equal(answer.status, 200, `${method}: ${JSON.stringify(answer.body)}`);
    return answer.body;
  }

  /** A connection of `user`, connected; its connect reply's result. */
  async function user(name: string, claims: Record<string, unknown> = {}) {
    const { client, reply } = await connectWith(hub.url, await mint({ sub: name, ...claims }, { alg: 'HS256' }));
    assert.equal(reply.t, 'ok', JSON.stringify(reply));
    open.push(client);
    return { client, result: (reply.t === 'ok' ? reply.r : {}) as { client: string; subs?: string[] } };
  }

  const pushes = (client: RawClient, t: string) => client.frames.filter((frame: ServerFrame) => frame.t === t);
  const complete = { asked: 1, answered: 1, missing: [], failed: [], complete: true };

  before(async () => {
    hub = await startHub(CONFIG);
  });
  after(async () => {
    for (const client of open) client.close();
    await hub.stop();
  });

  describe('refusals: each a status with a reason', () => {
    it('401 without the API key, or with another', async () => {
      for (const key of [null, 'not-the-key']) {
        const answer = await call('info', {}, key);
        assert.deepEqual(answer, {
          status: 401,
          body: { error: 'a valid API key is required (Authorization: Bearer <key>)' },
        });
      }
    });

    it('404 for a method that does not exist, naming those that do', async () => {
      const answer = await call('explode', {});
      assert.equal(answer.status, 404);
      assert.equal(answer.body.error, `no API method by that name; methods: ${Object.keys(METHODS).join(', ')}`);
    });

    it("405 with Allow: POST for another HTTP method on a method's path", async () => {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const response = await fetch(`${hub.http}/api/publish`, { method });
        assert.equal(response.status, 405, method);
        assert.equal(response.headers.get('allow'), 'POST');
        assert.deepEqual(await response.json(), { error: '/api/publish takes POST with a JSON body' });
      }
      assert.equal((await fetch(`${hub.http}/api/explode`)).status, 404);
    });

    it('400 for a body that is not JSON, or not the request: the reason names the field', async () => {
      assert.deepEqual(await call('publish', '{"channel":'), {
        status: 400,
        body: { error: 'body is not valid JSON' },
      });
      assert.deepEqual(await call('publish', { channel: 'news:x' }), {
        status: 400,
        body: { error: 'data: required' },
      });
      assert.deepEqual(await call('publish', { channel: 'news x', data: 1 }), {
        status: 400,
        body: { error: 'channel: invalid channel name' },
      });
      assert.equal((await call('publish', { channel: 'news:x', data: 1, extra: true })).status, 400);
      assert.deepEqual(await call('disconnect', {}), { status: 400, body: { error: 'name a user or a client' } });
      assert.deepEqual(await call('revoke', { until: 1 }), {
        status: 400,
        body: { error: 'name a user or a tokenId' },
      });
      const unknown = await call('publish', { channel: 'elsewhere:x', data: 1 });
      assert.equal(unknown.status, 400);
      assert.match(String(unknown.body.error), /matches no configured namespace/);
    });

    it('413 for a body over limits.maxHttpBodyBytes, before it is read', async () => {
      const response = await fetch(`${hub.http}/api/publish`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}` },
        body: JSON.stringify({ channel: 'news:big', data: 'x'.repeat(MAX_BODY) }),
      });
      assert.equal(response.status, 413);
      assert.match(await response.text(), /2048/);
    });

    it('400 for presence in a namespace without it', async () => {
      for (const method of ['presence', 'presence_stats']) {
        assert.deepEqual(await call(method, { channel: 'plain:x' }), {
          status: 400,
          body: { error: "presence is not enabled for plain:x's namespace" },
        });
      }
    });

    it('400 for a disconnect whose code contradicts `reconnect`', async () => {
      const answer = await call('disconnect', { user: 'x', code: 4501, reconnect: true });
      assert.deepEqual(answer, {
        status: 400,
        body: { error: 'code 4501 tells the client to stop; it contradicts reconnect: true' },
      });
    });
  });

  describe('GET /api/openapi.json', () => {
    it('is a valid OpenAPI 3 document listing every method as POST /api/<method>', async () => {
      const response = await fetch(`${hub.http}/api/openapi.json`);
      assert.equal(response.status, 200);
      const document = (await response.json()) as {
        openapi: string;
        info: { version: string };
        paths: Record<string, Record<string, unknown>>;
      };
      const validator = new Validator();
      const result = await validator.validate(document);
      assert.equal(result.valid, true, JSON.stringify(result.errors));
      assert.match(document.openapi, /^3\./);
      assert.equal(document.info.version, HUB_VERSION);
      assert.deepEqual(
        Object.keys(document.paths).sort(),
        Object.keys(METHODS)
          .map((name) => `/api/${name}`)
          .sort(),
      );
      for (const path of Object.values(document.paths)) assert.deepEqual(Object.keys(path), ['post']);
    });
  });

  describe('every method on one hub', () => {
    it('publish answers the position; broadcast one per channel, each delivered once', async () => {
      const { client } = await user('reader');
      await client.ok({ t: 'sub', ch: 'news:a' });
      await client.ok({ t: 'sub', ch: 'news:b' });
      const first = await ok('publish', { channel: 'news:a', data: { n: 1 } });
      assert.equal(first.offset, 1);
      assert.equal(typeof first.epoch, 'string');
      const broadcast = await ok('broadcast', { channels: ['news:a', 'news:b'], data: 'both' });
      assert.deepEqual(broadcast, {
        results: [
          { channel: 'news:a', epoch: first.epoch, offset: 2 },
          { channel: 'news:b', epoch: (broadcast.results as Array<{ epoch: string }>)[1]?.epoch, offset: 1 },
        ],
      });
      await waitFor(() => client.publications().length === 3, 'three publications');
      assert.deepEqual(
        client.publications().map(({ ch, off, d }) => [ch, off, d]),
        [
          ['news:a', 1, { n: 1 }],
          ['news:a', 2, 'both'],
          ['news:b', 1, 'both'],
        ],
      );
      const refused = await call('broadcast', { channels: ['news:a', 'elsewhere:b'], data: 1 });
      assert.equal(refused.status, 400, 'a channel outside every namespace refuses the whole broadcast');
      assert.equal((await call('broadcast', { channels: [], data: 1 })).status, 400);
    });

    it('history answers the latest publications, or those after a position, and says whether they continue it', async () => {
      let epoch = '';
      for (let n = 1; n <= 5; n++) epoch = String((await ok('publish', { channel: 'news:h', data: n })).epoch);
      const offsets = (body: Record<string, unknown>) =>
        (body.publications as Array<{ offset: number; data: unknown }>).map(({ offset, data }) => [offset, data]);
      const latest = await ok('history', { channel: 'news:h', limit: 3 });
      assert.equal(latest.offset, 5);
      assert.deepEqual(offsets(latest), [
        [3, 3],
        [4, 4],
        [5, 5],
      ]);
      assert.equal(latest.continuous, false, 'without since there is nothing to continue');
      const after2 = await ok('history', { channel: 'news:h', since: { epoch, offset: 2 }, limit: 2 });
      assert.deepEqual(offsets(after2), [
        [3, 3],
        [4, 4],
      ]);
      assert.equal(after2.continuous, true);
      const upToDate = await ok('history', { channel: 'news:h', since: { epoch, offset: 5 } });
      assert.deepEqual([offsets(upToDate), upToDate.continuous], [[], true]);
      const otherEpoch = await ok('history', { channel: 'news:h', since: { epoch: 'gone', offset: 2 } });
      assert.deepEqual([offsets(otherEpoch), otherEpoch.continuous, otherEpoch.epoch], [[], false, epoch]);
      const empty = await ok('history', { channel: 'news:never' });
      assert.deepEqual([empty.offset, offsets(empty)], [0, []]);
    });

    it("subscribe for a user joins each of its connections with a subd push, and is kept for the user's next connect", async () => {
      const [one, two] = [await user('sam'), await user('sam')];
      const answer = await ok('subscribe', { user: 'sam', channel: 'news:sam' });
      assert.deepEqual(answer, { connections: 2, hubs: complete });
      for (const { client } of [one, two]) {
        await waitFor(() => pushes(client, 'subd').length === 1, 'the subd push');
        assert.equal((pushes(client, 'subd')[0] as { ch: string }).ch, 'news:sam');
      }
      const later = await user('sam');
      assert.deepEqual(later.result.subs, ['news:sam']);
      await waitFor(() => pushes(later.client, 'subd').length === 1, 'the subd push at connect');
      const left = await ok('unsubscribe', { user: 'sam', channel: 'news:sam' });
      assert.deepEqual(left, { connections: 3, hubs: complete });
      for (const { client } of [one, two, later]) {
        await waitFor(() => pushes(client, 'unsubd').length === 1, 'the unsubd push');
        assert.deepEqual(pushes(client, 'unsubd')[0], {
          t: 'unsubd',
          ch: 'news:sam',
          code: ErrorCode.PERMISSION_DENIED,
          msg: 'unsubscribed by the server',
        });
      }
      assert.equal((await user('sam')).result.subs, undefined, 'forgotten for the next connect');
    });

    it('subscribe and unsubscribe for one client reach that connection only, and keep nothing for its user', async () => {
      const [one, two] = [await user('cleo'), await user('cleo')];
      assert.deepEqual(await ok('subscribe', { client: one.result.client, channel: 'news:cleo' }), {
        connections: 1,
        hubs: complete,
      });
      await waitFor(() => pushes(one.client, 'subd').length === 1, 'the subd push');
      assert.equal(pushes(two.client, 'subd').length, 0);
      assert.equal((await user('cleo')).result.subs, undefined);
      const gone = await ok('subscribe', { client: 'no-such-hub.1', channel: 'news:cleo' });
      assert.deepEqual(gone, { connections: 0, hubs: { ...complete, asked: 0, answered: 0 } });
      assert.deepEqual(await ok('unsubscribe', { client: one.result.client, channel: 'news:cleo' }), {
        connections: 1,
        hubs: complete,
      });
    });

    it('disconnect closes with 4007 by default, 4502 with reconnect: false, or the code given', async () => {
      const cases: Array<[object, number, string]> = [
        [{}, CloseCode.SERVER_DISCONNECT, 'disconnected by the server'],
        [{ reconnect: false }, CloseCode.SERVER_DISCONNECT_FINAL, 'disconnected by the server'],
        [{ code: 4321, reason: 'maintenance' }, 4321, 'maintenance'],
      ];
      for (const [options, code, reason] of cases) {
        const [one, two, other] = [await user('dora'), await user('dora'), await user('ed')];
        assert.deepEqual(await ok('disconnect', { user: 'dora', ...options }), { connections: 2, hubs: complete });
        for (const { client } of [one, two]) assert.deepEqual(await client.waitClosed(), { code, reason });
        assert.equal(other.client.closed, undefined);
        other.client.close();
      }
      const [kept, closed] = [await user('fay'), await user('fay')];
      assert.equal((await ok('disconnect', { client: closed.result.client })).connections, 1);
      assert.equal((await closed.client.waitClosed()).code, CloseCode.SERVER_DISCONNECT);
      assert.equal(kept.client.closed, undefined);
    });

    it('refresh sets when connections end (closed with 4004 then), or lifts it with null', async () => {
      const [ending, lifted] = [await user('gus'), await user('hal')];
      assert.equal((await ok('refresh', { user: 'gus', expireAt: Date.now() + 100 })).connections, 1);
      assert.equal((await ok('refresh', { user: 'hal', expireAt: Date.now() + 100 })).connections, 1);
      assert.equal((await ok('refresh', { user: 'hal', expireAt: null })).connections, 1);
      assert.equal((await ending.client.waitClosed()).code, CloseCode.TOKEN_EXPIRED);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(lifted.client.closed, undefined);
    });

    it('revoke closes the connections using the token, and refuses it at connect until `until`', async () => {
      const [revoked, other] = [await user('ivy', { jti: 'ivy-1' }), await user('ivy', { jti: 'ivy-2' })];
      const answer = await ok('revoke', { tokenId: 'ivy-1', until: Date.now() + 60_000 });
      assert.deepEqual(answer, { connections: 1, hubs: complete });
      assert.deepEqual(await revoked.client.waitClosed(), { code: CloseCode.TOKEN_EXPIRED, reason: 'token revoked' });
      assert.equal(other.client.closed, undefined);
      const again = await connectWith(hub.url, await mint({ sub: 'ivy', jti: 'ivy-1' }, { alg: 'HS256' }));
      assert.equal(again.reply.t === 'err' && again.reply.code, ErrorCode.UNAUTHORIZED);
      assert.equal((await again.client.waitClosed()).code, CloseCode.UNAUTHORIZED);
      // By user: tokens issued before the cut-off, the one still open included.
      assert.equal((await ok('revoke', { user: 'ivy', until: Date.now() + 60_000 })).connections, 1);
      assert.equal((await other.client.waitClosed()).code, CloseCode.TOKEN_EXPIRED);
    });

    it('channels lists channels with subscribers in name order, filtered and paged; info describes the hub', async () => {
      const { client } = await user('lister');
      for (const ch of ['plain:c', 'plain:a', 'plain:b', 'news:z']) await client.ok({ t: 'sub', ch });
      const { client: second } = await user('lister2');
      await second.ok({ t: 'sub', ch: 'plain:a' });
      const first = await ok('channels', { pattern: 'plain:*', limit: 2 });
      assert.deepEqual(first, {
        channels: [
          { channel: 'plain:a', subscribers: 2, local: 2 },
          { channel: 'plain:b', subscribers: 1, local: 1 },
        ],
        next: 'plain:b',
        hubs: complete,
      });
      const rest = await ok('channels', { pattern: 'plain:*', limit: 2, cursor: 'plain:b' });
      assert.deepEqual(rest, { channels: [{ channel: 'plain:c', subscribers: 1, local: 1 }], hubs: complete });
      const info = await ok('info', {});
      const [described] = info.hubs as Array<Record<string, unknown>>;
      assert.equal((info.hubs as unknown[]).length, 1);
      assert.deepEqual(info.answered, complete);
      assert.equal(described?.id, hub.node.id);
      assert.equal(described?.name, 'router-hub');
      assert.equal(described?.version, HUB_VERSION);
      assert.equal(described?.broker, 'memory');
      assert.equal(described?.ready, true);
      assert.equal(described?.connections, hub.node.sessions.size);
    });

    it('presence lists who is subscribed, presence_stats counts them', async () => {
      const [a, b, c] = [await user('jo', { info: { name: 'Jo' } }), await user('jo'), await user('kim')];
      for (const { client } of [a, b, c]) await client.ok({ t: 'sub', ch: 'room:r' });
      const listed = await ok('presence', { channel: 'room:r' });
      const clients = (listed.clients as Array<{ client: string }>).sort((x, y) => x.client.localeCompare(y.client));
      const expected = [
        { client: a.result.client, user: 'jo', info: { name: 'Jo' } },
        { client: b.result.client, user: 'jo' },
        { client: c.result.client, user: 'kim' },
      ].sort((x, y) => x.client.localeCompare(y.client));
      assert.deepEqual(clients, expected);
      assert.equal(listed.more, undefined);
      assert.deepEqual(await ok('presence_stats', { channel: 'room:r' }), { clients: 3, users: 2 });
      assert.deepEqual(await ok('presence_stats', { channel: 'room:empty' }), { clients: 0, users: 0 });
    });
  });

  describe('/admin/api: the same methods behind the admin view’s door', () => {
    it('answers with the API key as Bearer or as the Basic password, and 401 without it', async () => {
      const basic = `Basic ${Buffer.from(`admin:${API_KEY}`).toString('base64')}`;
      const refused = await call('info', {}, null, '/admin/api');
      assert.deepEqual(refused, {
        status: 401,
        body: { error: 'the admin view needs the API key (Bearer, or Basic with it as password)' },
      });
      const response = await fetch(`${hub.http}/admin/api/info`, {
        method: 'POST',
        headers: { authorization: basic },
        body: '{}',
      });
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as { hubs: unknown[] }).hubs.length, 1);
      assert.equal((await fetch(`${hub.http}/admin/api/info`)).status, 405);
    });
  });
});

describe('who may call the server API without http.apiKey', () => {
  it('with publishWithoutKey: off, nobody (403); the admin door still serves this machine', async () => {
    const hub = await startHub({ http: { publishWithoutKey: 'off' } } as Parameters<typeof startHub>[0]);
    try {
      const post = (path: string) => fetch(`${hub.http}${path}`, { method: 'POST', body: '{}' });
      const refused = await post('/api/info');
      assert.equal(refused.status, 403);
      assert.deepEqual(await refused.json(), { error: 'the HTTP API is off; set http.apiKey' });
      assert.equal((await post('/admin/api/info')).status, 200);
    } finally {
      await hub.stop();
    }
  });

  it('on this machine, by default', async () => {
    const hub = await startHub();
    try {
      const response = await fetch(`${hub.http}/api/info`, { method: 'POST', body: '{}' });
      assert.equal(response.status, 200);
    } finally {
      await hub.stop();
    }
  });
});
