import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloseCode, ErrorCode, type UnsubscribedPush } from '@switchboard/protocol';
import { SignJWT } from 'jose';
import { startHub, type TestHub } from '../../support/hub.js';
import { RawClient } from '../../support/raw-client.js';
import { waitFor } from '../../support/wait.js';

const SECRET = 'access-test-secret-that-is-long-enough!!';
const now = () => Math.floor(Date.now() / 1000);

function token(claims: Record<string, unknown>, ttlSeconds = 3600): Promise<string> {
  return new SignJWT({ exp: now() + ttlSeconds, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SECRET));
}

async function connect(hub: TestHub, jwt?: string): Promise<RawClient> {
  const client = await RawClient.open(hub.url);
  const reply = await client.request(jwt === undefined ? { t: 'connect' } : { t: 'connect', token: jwt });
  assert.equal(reply.t, 'ok', JSON.stringify(reply));
  return client;
}

const code = (reply: { t: string; code?: number }) => (reply.t === 'err' ? reply.code : 'ok');

describe('authorization rules per namespace', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startHub({
      auth: { keys: [{ alg: 'HS256', secret: SECRET }], clockToleranceSeconds: 0 },
      namespaces: {
        pub: { subscribe: 'public', publish: 'public' },
        members: { subscribe: 'authenticated', publish: 'authenticated' },
        user: { subscribe: 'user', publish: 'user' },
        orders: { subscribe: 'granted', publish: 'granted' },
        board: { subscribe: 'authenticated', publish: 'granted' },
      },
    });
  });
  after(() => hub.stop());

  it('applies public, authenticated, user and granted, with claim grants on top', async () => {
    const alice = await connect(hub, await token({ sub: 'alice', channels: ['orders:eu-*', 'user:bob'] }));
    const expected: Record<string, number | 'ok'> = {
      'pub:1': 'ok',
      'members:1': 'ok',
      'user:alice': 'ok',
      'user:alice:inbox': ErrorCode.PERMISSION_DENIED,
      'user:bob': 'ok',
      'user:carol': ErrorCode.PERMISSION_DENIED,
      'orders:eu-1': 'ok',
      'orders:us-1': ErrorCode.PERMISSION_DENIED,
      'elsewhere:1': ErrorCode.PERMISSION_DENIED,
      lobby: ErrorCode.PERMISSION_DENIED,
    };
    for (const [ch, want] of Object.entries(expected)) {
      assert.equal(code(await alice.request({ t: 'sub', ch })), want, `sub ${ch}`);
    }
    const publishes: Record<string, number | 'ok'> = {
      'pub:1': 'ok',
      'members:1': 'ok',
      'user:alice': 'ok',
      'user:bob': ErrorCode.PERMISSION_DENIED,
      'board:1': ErrorCode.PERMISSION_DENIED,
    };
    for (const [ch, want] of Object.entries(publishes)) {
      assert.equal(code(await alice.request({ t: 'pub', ch, d: 1 })), want, `pub ${ch}`);
    }
    alice.close();
  });

  it('grants publishing by the publish claim', async () => {
    const writer = await connect(hub, await token({ sub: 'w', publish: ['board:*'] }));
    assert.equal(code(await writer.request({ t: 'pub', ch: 'board:news', d: 'hi' })), 'ok');
    assert.equal(code(await writer.request({ t: 'pub', ch: 'orders:1', d: 'hi' })), ErrorCode.PERMISSION_DENIED);
    writer.close();
  });

  it('refuses a connect without a token when no namespace is public... unless one is', async () => {
    const closed = await startHub({ auth: { keys: [{ alg: 'HS256', secret: SECRET }] } });
    const client = await RawClient.open(closed.url);
    const reply = await client.request({ t: 'connect' });
    assert.equal(code(reply), ErrorCode.UNAUTHORIZED);
    assert.equal((await client.waitClosed()).code, CloseCode.UNAUTHORIZED);
    await closed.stop();
    const anonymous = await connect(hub);
    assert.equal(code(await anonymous.request({ t: 'sub', ch: 'pub:1' })), 'ok');
    assert.equal(code(await anonymous.request({ t: 'sub', ch: 'members:1' })), ErrorCode.PERMISSION_DENIED);
    assert.equal(
      code(await anonymous.request({ t: 'refresh', token: await token({ sub: 'x' }) })),
      ErrorCode.UNAUTHORIZED,
    );
    anonymous.close();
  });

  it('lets a subscription token open a channel the connection is not granted', async () => {
    const alice = await connect(hub, await token({ sub: 'alice' }));
    const ticket = await token({ sub: 'alice', channel: 'orders:secret' });
    assert.equal(code(await alice.request({ t: 'sub', ch: 'orders:secret', token: ticket })), 'ok');
    await alice.ok({ t: 'unsub', ch: 'orders:secret' });
    assert.equal(code(await alice.request({ t: 'sub', ch: 'orders:secret' })), 'ok', 'still valid: no token needed');
    alice.close();
  });

  it('ends a channel held by a subscription token when that token expires, with unsubd 109', async () => {
    const alice = await connect(hub, await token({ sub: 'alice' }));
    const ticket = await token({ sub: 'alice', channel: 'orders:brief' }, 1);
    assert.equal(code(await alice.request({ t: 'sub', ch: 'orders:brief', token: ticket })), 'ok');
    await waitFor(() => alice.frames.some((f) => f.t === 'unsubd'), 'the unsubd push', 4_000);
    const push = alice.frames.find((f): f is UnsubscribedPush => f.t === 'unsubd');
    assert.equal(push?.ch, 'orders:brief');
    assert.equal(push?.code, ErrorCode.TOKEN_EXPIRED);
    assert.equal(alice.closed, undefined);
    alice.close();
  });

  it('refresh: a dropped grant ends that subscription with unsubd 103, kept ones stay', async () => {
    const bob = await connect(hub, await token({ sub: 'bob', channels: ['orders:a', 'orders:b'] }));
    await bob.ok({ t: 'sub', ch: 'orders:a' });
    await bob.ok({ t: 'sub', ch: 'orders:b' });
    await bob.ok({ t: 'refresh', token: await token({ sub: 'bob', channels: ['orders:a'] }) });
    const pushes = bob.frames.filter((f): f is UnsubscribedPush => f.t === 'unsubd');
    assert.deepEqual(
      pushes.map((p) => [p.ch, p.code]),
      [['orders:b', ErrorCode.PERMISSION_DENIED]],
    );
    await bob.ok({ t: 'pub', ch: 'pub:x', d: 0 });
    const response = await fetch(`${hub.http}/api/publish`, {
      method: 'POST',
      body: JSON.stringify({ channel: 'orders:b', data: 'gone' }),
    });
    assert.equal(response.status, 200);
    await fetch(`${hub.http}/api/publish`, {
      method: 'POST',
      body: JSON.stringify({ channel: 'orders:a', data: 'kept' }),
    });
    await waitFor(() => bob.publications('orders:a').length === 1, 'the kept channel to deliver');
    assert.equal(bob.publications('orders:b').length, 0);
    const session = [...hub.node.sessions].find((s) => s.access.principal.sub === 'bob');
    assert.deepEqual([...(session?.channels ?? [])], ['orders:a']);
    bob.close();
  });

  it('refresh: refuses another subject and an invalid token, and keeps the connection', async () => {
    const carol = await connect(hub, await token({ sub: 'carol' }));
    assert.equal(
      code(await carol.request({ t: 'refresh', token: await token({ sub: 'mallory' }) })),
      ErrorCode.UNAUTHORIZED,
    );
    assert.equal(code(await carol.request({ t: 'refresh', token: 'x.y.z' })), ErrorCode.UNAUTHORIZED);
    assert.equal(
      code(await carol.request({ t: 'refresh', token: await token({ sub: 'carol' }, -10) })),
      ErrorCode.TOKEN_EXPIRED,
    );
    assert.equal(code(await carol.request({ t: 'ping' })), 'ok');
    carol.close();
  });

  it('closes a connection whose token expires with 4004, unless it refreshed in time', async () => {
    const late = await connect(hub, await token({ sub: 'late' }, 1));
    const punctual = await connect(hub, await token({ sub: 'punctual' }, 1));
    await punctual.ok({ t: 'refresh', token: await token({ sub: 'punctual' }, 60) });
    assert.equal((await late.waitClosed()).code, CloseCode.TOKEN_EXPIRED);
    assert.equal(code(await punctual.request({ t: 'ping' })), 'ok');
    assert.equal(punctual.closed, undefined);
    punctual.close();
  });
});

describe('without auth (the development default)', () => {
  it('accepts any connection, ignores tokens and lets everyone subscribe and publish', async () => {
    const hub = await startHub();
    const client = await connect(hub, 'not-even-a-jwt');
    assert.equal(code(await client.request({ t: 'sub', ch: 'admin:1' })), 'ok');
    assert.equal(code(await client.request({ t: 'pub', ch: 'admin:1', d: 1 })), 'ok');
    assert.equal(code(await client.request({ t: 'refresh', token: 'whatever' })), 'ok');
    client.close();
    await hub.stop();
  });
});
