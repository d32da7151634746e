import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloseCode, ErrorCode, type Position, type ServerFrame } from '@switchboard/protocol';
import { connectWith, mint, SECRET } from '../../security/support.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { RawClient } from '../../support/raw-client.js';
import { waitFor } from '../../support/wait.js';

const API_KEY = 'connect-handler-test-api-key';
const CONFIG = {
  auth: { keys: [{ alg: 'HS256', secret: SECRET }] },
  http: { apiKey: API_KEY },
  limits: { maxConnectionsPerUser: 2 },
  namespaces: {
    news: { subscribe: 'authenticated', history: { size: 100, ttlSeconds: 600 } },
    open: { subscribe: 'public' },
  },
} as unknown as Parameters<typeof startHub>[0];

const token = (user: string, claims: Record<string, unknown> = {}) => mint({ sub: user, ...claims }, { alg: 'HS256' });

describe('connect', () => {
  let hub: TestHub;
  const open: RawClient[] = [];
  async function api(method: string, body: object): Promise<Record<string, unknown>> {
    const response = await fetch(`${hub.http}/api/${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 200);
    return (await response.json()) as Record<string, unknown>;
  }
  async function connectAs(user: string, extra: object = {}) {
    const client = await RawClient.open(hub.url);
    open.push(client);
    const reply = await client.request({ t: 'connect', token: await token(user), ...extra });
    return { client, reply };
  }
  /** Index of the first frame matching `test`, -1 when none. */
  const at = (client: RawClient, test: (frame: ServerFrame) => boolean) => client.frames.findIndex(test);

  before(async () => {
    hub = await startHub(CONFIG);
  });
  after(async () => {
    for (const client of open) client.close();
    await hub.stop();
  });

  describe('with server-side subscriptions', () => {
    it('lists them in the reply, then joins each with a subd push that follows the reply', async () => {
      await api('subscribe', { user: 'sub-a', channel: 'news:one' });
      await api('subscribe', { user: 'sub-a', channel: 'news:two' });
      const { client, reply } = await connectAs('sub-a');
      assert.equal(reply.t, 'ok');
      assert.deepEqual([...((reply.t === 'ok' && (reply.r as { subs?: string[] }).subs) || [])].sort(), [
        'news:one',
        'news:two',
      ]);
      await waitFor(() => client.frames.filter((f) => f.t === 'subd').length === 2, 'two subd pushes');
      const replyAt = at(client, (f) => f.t === 'ok');
      for (const frame of client.frames.filter((f) => f.t === 'subd')) {
        assert.ok(client.frames.indexOf(frame) > replyAt, 'after the reply');
        assert.deepEqual(Object.keys(frame).sort(), ['ch', 'ep', 'off', 't']);
      }
    });

    it('resumes each where connect.subs says it stood: the missed publications follow the subd push', async () => {
      await api('subscribe', { user: 'sub-b', channel: 'news:resume' });
      let position: Position = { ep: '', off: 0 };
      for (let n = 1; n <= 4; n++) {
        const published = await api('publish', { channel: 'news:resume', data: n });
        position = { ep: String(published.epoch), off: Number(published.offset) };
      }
      const { client } = await connectAs('sub-b', { subs: { 'news:resume': { ep: position.ep, off: 1 } } });
      await waitFor(() => client.publications('news:resume').length === 3, 'the three missed');
      const subd = client.frames.find((f) => f.t === 'subd');
      assert.deepEqual(subd, { t: 'subd', ch: 'news:resume', ep: position.ep, off: 4, rec: true });
      const subdAt = client.frames.indexOf(subd as ServerFrame);
      assert.ok(at(client, (f) => f.t === 'msg') > subdAt, 'the publications follow the subd push');
      assert.deepEqual(
        client.publications('news:resume').map((p) => p.off),
        [2, 3, 4],
      );
    });

    it('says when a position cannot be resumed (rec: false and why), and ignores channels the user is not subscribed to', async () => {
      await api('subscribe', { user: 'sub-c', channel: 'news:lost' });
      const { client, reply } = await connectAs('sub-c', {
        subs: { 'news:lost': { ep: 'gone', off: 3 }, 'news:not-mine': { ep: 'x', off: 1 } },
      });
      assert.deepEqual(reply.t === 'ok' && (reply.r as { subs?: string[] }).subs, ['news:lost']);
      await waitFor(() => client.frames.some((f) => f.t === 'subd'), 'the subd push');
      const subd = client.frames.find((f) => f.t === 'subd') as { ch: string; rec: boolean; why: string };
      assert.deepEqual([subd.ch, subd.rec, subd.why], ['news:lost', false, 'epoch_changed']);
      assert.equal(client.frames.filter((f) => f.t === 'subd').length, 1);
    });

    it('lists none for a user without any, nor for an anonymous connection', async () => {
      const { reply } = await connectAs('nobody-subscribed');
      assert.equal(reply.t === 'ok' && 'subs' in (reply.r as object), false);
      const anonymous = await RawClient.open(hub.url);
      open.push(anonymous);
      const anonymousReply = await anonymous.request({ t: 'connect' });
      assert.equal(anonymousReply.t === 'ok' && 'subs' in (anonymousReply.r as object), false);
    });
  });

  it('refuses a revoked token with 101, then closes with 4501', async () => {
    await api('revoke', { tokenId: 'revoked-jti', until: Date.now() + 60_000 });
    const { client, reply } = await connectWith(hub.url, await token('rita', { jti: 'revoked-jti' }));
    open.push(client);
    assert.deepEqual(reply.t === 'err' && [reply.code, reply.msg], [ErrorCode.UNAUTHORIZED, 'token revoked']);
    assert.deepEqual(await client.waitClosed(), { code: CloseCode.UNAUTHORIZED, reason: 'token revoked' });
  });

  it('refuses a connection over limits.maxConnectionsPerUser with 106, then closes with 4005', async () => {
    const first = await connectAs('capped');
    const second = await connectAs('capped');
    assert.equal(first.reply.t, 'ok');
    assert.equal(second.reply.t, 'ok');
    const third = await connectAs('capped');
    assert.deepEqual(third.reply.t === 'err' && [third.reply.code, third.reply.msg], [
      ErrorCode.LIMIT_EXCEEDED,
      'connections per user limit of 2 reached',
    ]);
    assert.deepEqual(await third.client.waitClosed(), {
      code: CloseCode.CONNECTION_LIMIT,
      reason: 'too many connections for this user',
    });
    assert.equal((await connectAs('someone-else')).reply.t, 'ok', 'other users are not affected');
  });
});
