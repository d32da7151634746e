import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { Client, ErrorCode } from '../../client-sdk/src/index.js';
import { mint, startSecureHub } from '../security/support.js';
import type { TestHub } from '../support/hub.js';
import { sleep, waitFor } from '../support/wait.js';
import { nextEvent } from './helpers.js';
import { tap } from './tap.js';

const inSeconds = (s: number) => Math.floor(Date.now() / 1000) + s;

describe('Client with authentication', () => {
  let hub: TestHub;
  const clients: Client[] = [];
  before(async () => {
    hub = await startSecureHub({
      auth: {
        keys: [{ alg: 'HS256', secret: 'a-development-secret-of-at-least-32-characters' }],
        issuer: 'https://issuer.test',
        audience: 'switchboard',
        clockToleranceSeconds: 0,
      },
    });
  });
  after(async () => {
    for (const c of clients) c.close();
    await hub.stop();
  });

  it('refreshes its token before the hub would close the connection at exp', async () => {
    let minted = 0;
    const token = () => {
      minted += 1;
      return mint({ sub: 'alice', channels: ['orders:*'] }, { alg: 'HS256', exp: inSeconds(3) });
    };
    const tapped = tap();
    const c = new Client(hub.url, { WebSocket: tapped.WebSocket, token });
    clients.push(c);
    const sub = c.subscribe('orders:1');
    await sub.ready;
    await sleep(7_000);
    assert.equal(c.state, 'connected');
    assert.equal(tapped.sockets.length, 1, 'never reconnected');
    assert.ok(minted >= 3, `refreshed ${minted - 1} times`);
    assert.ok((tapped.sockets[0]?.framesOf('refresh').length ?? 0) >= 2);
  });

  it('sends a subscription token for a channel its connection token does not grant', async () => {
    const c = new Client(hub.url, { WebSocket, token: () => mint({ sub: 'bob' }, { alg: 'HS256' }) });
    clients.push(c);
    const refused = c.subscribe('orders:7');
    const ended = await nextEvent(refused, 'unsubscribed');
    assert.equal(ended.code, ErrorCode.PERMISSION_DENIED);
    const channelToken = await mint({ sub: 'bob', channel: 'orders:7' }, { alg: 'HS256' });
    const allowed = c.subscribe('orders:7', { token: channelToken });
    await allowed.ready;
    await waitFor(() => allowed.state === 'subscribed', 'the subscription');
  });
});
