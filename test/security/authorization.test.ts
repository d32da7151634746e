import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '@switchboard/protocol';
import type { TestHub } from '../support/hub.js';
import type { RawClient } from '../support/raw-client.js';
import { connected, errorCode, mint, startSecureHub, Watcher } from './support.js';

describe('attack: reaching for channels one is not entitled to', () => {
  let hub: TestHub;
  let watcher: Watcher;
  let alice: RawClient;
  before(async () => {
    hub = await startSecureHub();
    watcher = await Watcher.start(hub, 'authz');
    alice = await connected(hub.url, await mint({ sub: 'alice', channels: ['orders:*'], publish: ['orders:alice'] }));
  });
  after(async () => {
    alice.close();
    watcher.close();
    await hub.stop();
  });

  it('refuses a subscription the token does not grant with 103, and delivers nothing of it', async () => {
    assert.equal((await alice.request({ t: 'sub', ch: 'orders:1' })).t, 'ok');
    for (const ch of ['admin:1', 'user:bob', 'orders', 'ordersX:1']) {
      const reply = await alice.request({ t: 'sub', ch });
      assert.equal(errorCode(reply), ErrorCode.PERMISSION_DENIED, ch);
      assert.match(reply.t === 'err' ? reply.msg : '', /not allowed to subscribe/);
    }
    await fetch(`${hub.http}/api/publish`, { method: 'POST', body: JSON.stringify({ channel: 'admin:1', data: 1 }) });
    await watcher.assertHealthy(hub);
    assert.equal(alice.publications('admin:1').length, 0);
    assert.equal(alice.closed, undefined, 'a refusal does not cost the connection');
  });

  it('refuses a subscription token for another channel or another subject', async () => {
    const forBob = await mint({ sub: 'bob', channel: 'admin:1' });
    const bobReply = await alice.request({ t: 'sub', ch: 'admin:1', token: forBob });
    assert.equal(errorCode(bobReply), ErrorCode.UNAUTHORIZED);
    const otherChannel = await mint({ sub: 'alice', channel: 'admin:2' });
    assert.equal(
      errorCode(await alice.request({ t: 'sub', ch: 'admin:1', token: otherChannel })),
      ErrorCode.UNAUTHORIZED,
    );
    const expired = await mint({ sub: 'alice', channel: 'admin:1' }, { exp: Math.floor(Date.now() / 1000) - 60 });
    assert.equal(errorCode(await alice.request({ t: 'sub', ch: 'admin:1', token: expired })), ErrorCode.TOKEN_EXPIRED);
    await watcher.assertHealthy(hub);
  });

  it('refuses a publish where the token does not allow it with 103, and nothing reaches subscribers', async () => {
    const before = watcher.client.publications('orders:1').length;
    await watcher.client.ok({ t: 'sub', ch: 'news:x' });
    for (const ch of ['orders:1', 'news:x', 'admin:1', 'ro:1']) {
      const reply = await alice.request({ t: 'pub', ch, d: { forged: true } });
      assert.equal(errorCode(reply), ErrorCode.PERMISSION_DENIED, ch);
    }
    assert.equal((await alice.request({ t: 'pub', ch: 'orders:alice', d: 1 })).t, 'ok');
    await watcher.assertHealthy(hub);
    assert.equal(watcher.client.publications('news:x').length, 0);
    assert.equal(watcher.client.publications('orders:1').length, before);
  });
});
