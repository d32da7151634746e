import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, type PresenceEntry, type ServerFrame } from '@switchboard/protocol';
import { connectWith, mint, SECRET } from '../../security/support.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { RawClient } from '../../support/raw-client.js';
import { waitFor } from '../../support/wait.js';

const CONFIG = {
  auth: { keys: [{ alg: 'HS256', secret: SECRET }] },
  presence: { pushIntervalMs: 100 },
  namespaces: {
    room: { subscribe: 'authenticated', presence: { enabled: true, joinLeave: true } },
    lobby: { subscribe: 'authenticated', presence: { enabled: true, clientInfo: true } },
    news: { subscribe: 'authenticated' },
  },
} as unknown as Parameters<typeof startHub>[0];

const byClient = (entries: readonly PresenceEntry[]) => [...entries].sort((a, b) => a.c.localeCompare(b.c));

describe('presence and presence_stats requests', () => {
  let hub: TestHub;
  const open: RawClient[] = [];
  async function member(user: string, claims: Record<string, unknown> = {}) {
    const { client, reply } = await connectWith(hub.url, await mint({ sub: user, ...claims }, { alg: 'HS256' }));
    assert.equal(reply.t, 'ok');
    open.push(client);
    return { client, id: (reply.t === 'ok' ? (reply.r as { client: string }).client : '') as string };
  }
  const refusal = async (client: RawClient, frame: object) => {
    const reply = await client.request(frame);
    return reply.t === 'err' ? [reply.code, reply.msg] : ['ok'];
  };

  before(async () => {
    hub = await startHub(CONFIG);
  });
  after(async () => {
    for (const client of open) client.close();
    await hub.stop();
  });

  it('answers a subscriber who is in the channel, over the hub, with users and what the token shows', async () => {
    const alice = await member('alice', { info: { name: 'Alice' } });
    const bob = await member('bob');
    const bob2 = await member('bob');
    for (const { client } of [alice, bob, bob2]) await client.ok({ t: 'sub', ch: 'room:one' });
    const result = (await alice.client.ok({ t: 'presence', ch: 'room:one' })) as { who: PresenceEntry[] };
    assert.deepEqual(
      byClient(result.who),
      byClient([
        { c: alice.id, u: 'alice', i: { name: 'Alice' } },
        { c: bob.id, u: 'bob' },
        { c: bob2.id, u: 'bob' },
      ]),
    );
    assert.deepEqual(await bob.client.ok({ t: 'presence_stats', ch: 'room:one' }), { clients: 3, users: 2 });
  });

  it('refuses a connection not subscribed to the channel with 103', async () => {
    const { client } = await member('outsider');
    for (const t of ['presence', 'presence_stats'])
      assert.deepEqual(await refusal(client, { t, ch: 'room:one' }), [
        ErrorCode.PERMISSION_DENIED,
        'subscribe to room:one to see its presence',
      ]);
  });

  it('refuses a channel whose namespace keeps no presence with 107, subscribed or not', async () => {
    const { client } = await member('reader');
    await client.ok({ t: 'sub', ch: 'news:x' });
    for (const t of ['presence', 'presence_stats'])
      assert.deepEqual(await refusal(client, { t, ch: 'news:x' }), [
        ErrorCode.BAD_REQUEST,
        'presence is not enabled for news:x',
      ]);
  });

  it('before connect, answers 110 like any request', async () => {
    const client = await RawClient.open(hub.url);
    open.push(client);
    assert.deepEqual(await refusal(client, { t: 'presence', ch: 'room:one' }), [
      ErrorCode.NOT_CONNECTED,
      'send connect first',
    ]);
  });

  it('shows what the subscriber says in `sub` only where the namespace has clientInfo; the token’s info claim elsewhere', async () => {
    const claimed = await member('carol', { info: { name: 'from the token' } });
    await claimed.client.ok({ t: 'sub', ch: 'lobby:x', info: { name: 'Carol says' } });
    await claimed.client.ok({ t: 'sub', ch: 'room:info', info: { name: 'Carol says' } });
    const silent = await member('dan');
    await silent.client.ok({ t: 'sub', ch: 'lobby:x' });
    await silent.client.ok({ t: 'sub', ch: 'room:info', info: 'ignored here' });
    const who = async (ch: string) =>
      byClient(((await claimed.client.ok({ t: 'presence', ch })) as { who: PresenceEntry[] }).who);
    assert.deepEqual(
      await who('lobby:x'),
      byClient([
        { c: claimed.id, u: 'carol', i: { name: 'Carol says' } },
        { c: silent.id, u: 'dan' },
      ]),
    );
    assert.deepEqual(
      await who('room:info'),
      byClient([
        { c: claimed.id, u: 'carol', i: { name: 'from the token' } },
        { c: silent.id, u: 'dan' },
      ]),
    );
  });

  it('pushes joins and leaves to subscribers (joinLeave), and leaves the channel’s presence on unsub and on close', async () => {
    const watcher = await member('watcher');
    await watcher.client.ok({ t: 'sub', ch: 'room:live' });
    const pres = () =>
      watcher.client.frames.filter((f: ServerFrame) => f.t === 'pres') as Array<{
        join?: PresenceEntry[];
        leave?: PresenceEntry[];
      }>;
    const joiner = await member('erin');
    await joiner.client.ok({ t: 'sub', ch: 'room:live' });
    await waitFor(() => pres().some((p) => p.join?.some((e) => e.c === joiner.id)), 'the join push');
    await joiner.client.ok({ t: 'unsub', ch: 'room:live' });
    await waitFor(() => pres().some((p) => p.leave?.some((e) => e.c === joiner.id)), 'the leave push after unsub');
    const closer = await member('finn');
    await closer.client.ok({ t: 'sub', ch: 'room:live' });
    await waitFor(() => pres().some((p) => p.join?.some((e) => e.c === closer.id)), 'the second join push');
    closer.client.close();
    await waitFor(() => pres().some((p) => p.leave?.some((e) => e.c === closer.id)), 'the leave push after close');
    assert.deepEqual(await watcher.client.ok({ t: 'presence_stats', ch: 'room:live' }), { clients: 1, users: 1 });
  });
});
