import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloseCode, ErrorCode, msgpackCodec, SUBPROTOCOLS } from '@switchboard/protocol';
import WebSocket from 'ws';
import type { TestHub } from '../support/hub.js';
import { RawClient } from '../support/raw-client.js';
import { waitFor } from '../support/wait.js';
import { connected, mint, openSocket, startSecureHub, upgradeRefusal, Watcher } from './support.js';

describe('attack: floods from one connection', () => {
  let hub: TestHub;
  let watcher: Watcher;
  before(async () => {
    hub = await startSecureHub({ limits: { maxFrameBytes: 4096, messagesPerSecond: 100, messageBurst: 200 } });
    watcher = await Watcher.start(hub, 'floods');
  });
  after(async () => {
    watcher.close();
    await hub.stop();
  });

  it('closes a socket that sends a frame over the size limit with 1009', async () => {
    const client = await connected(hub.url, await mint({ sub: 'big', publish: ['orders:*'] }));
    client.send({ t: 'pub', id: 9, ch: 'orders:1', d: 'x'.repeat(6000) });
    assert.equal((await client.waitClosed()).code, CloseCode.FRAME_TOO_LARGE);
    assert.equal(hub.node.limits.hits.frameSize, 1);
    await watcher.assertHealthy(hub);
  });

  it('answers 10,000 messages in a second with 111 beyond the burst, then closes with 4003', async () => {
    const client = await connected(hub.url, await mint({ sub: 'flooder' }));
    const ping = (id: number) => msgpackCodec.encode({ t: 'ping', id });
    const started = Date.now();
    for (let i = 0; i < 10_000 && client.ws.readyState === WebSocket.OPEN; i++) {
      client.sendBytes(ping(1000 + i));
      if (i % 1000 === 999) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal((await client.waitClosed()).code, CloseCode.TOO_MANY_REQUESTS);
    assert.ok(Date.now() - started < 5_000);
    const oks = client.frames.filter((f) => f.t === 'ok').length;
    const refused = client.frames.filter((f) => f.t === 'err' && f.code === ErrorCode.TOO_MANY_REQUESTS);
    assert.ok(oks >= 200 && oks < 400, `about the burst was served: ${oks}`);
    assert.ok(refused.length >= 100, `refusals carried 111: ${refused.length}`);
    assert.ok(
      refused.every((f) => f.t === 'err' && f.tmp === true && f.id >= 1000),
      '111 is temporary and names the request',
    );
    assert.ok(hub.node.limits.hits.messageRate >= 100);
    assert.equal(hub.node.limits.hits.messageRateClose, 1);
    await watcher.assertHealthy(hub);
  });
});

describe('attack: many connections from one address', () => {
  let hub: TestHub;
  let watcher: Watcher;
  const attacker = { headers: { 'x-forwarded-for': '203.0.113.66' } };
  before(async () => {
    // Behind a trusted proxy on loopback: the attacker is 203.0.113.66, the bystander is 127.0.0.1.
    hub = await startSecureHub({
      proxy: { trusted: ['127.0.0.1'] },
      limits: { maxConnectionsPerIp: 10, connectsPerSecondPerIp: 5, connectBurstPerIp: 12 },
    });
    watcher = await Watcher.start(hub, 'crowd');
  });
  after(async () => {
    watcher.close();
    await hub.stop();
  });

  it('refuses the 11th connection from one address with HTTP 429, and accepts it once one left', async () => {
    const sockets = await Promise.all(Array.from({ length: 10 }, () => openSocket(hub.url, attacker)));
    const refused = await upgradeRefusal(hub.url, attacker);
    assert.equal(refused.status, 429);
    assert.equal(refused.body, 'too many connections from this address');
    assert.equal(hub.node.limits.hits.connectionsPerIp, 1);
    await watcher.assertHealthy(hub);
    const other = await openSocket(hub.url, { headers: { 'x-forwarded-for': '203.0.113.67' } });
    other.close();
    sockets[0]?.close();
    await waitFor(() => hub.node.limits.perIp.openFrom('203.0.113.66') === 9, 'one to leave');
    const again = await openSocket(hub.url, attacker);
    for (const ws of [...sockets, again]) ws.close();
  });

  it('refuses connects faster than the per-address rate with HTTP 429', async () => {
    // The burst of 12 is spent by now (11 connects above); the bucket refills at 5/s.
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => openSocket(hub.url, { headers: { 'x-forwarded-for': '203.0.113.66' } })),
    );
    const rejected = results.filter((r) => r.status === 'rejected');
    assert.ok(rejected.length >= 3, `some connects were refused: ${rejected.length}`);
    assert.ok(rejected.every((r) => /429/.test(String((r as PromiseRejectedResult).reason))));
    assert.ok(hub.node.limits.hits.connectsPerIp >= 3);
    for (const r of results) if (r.status === 'fulfilled') r.value.close();
    await watcher.assertHealthy(hub);
  });
});

describe('attack: 1,000 idle sockets that never authenticate', () => {
  let hub: TestHub;
  let watcher: Watcher;
  before(async () => {
    hub = await startSecureHub({
      limits: {
        connectTimeoutSeconds: 1,
        maxConnectionsPerIp: 5_000,
        connectsPerSecondPerIp: 10_000,
        connectBurstPerIp: 5_000,
      },
    });
    watcher = await Watcher.start(hub, 'idle');
  });
  after(async () => {
    watcher.close();
    await hub.stop();
  });

  it('closes every one of them with 4006 at the deadline, and forgets them', async () => {
    const idle: RawClient[] = [];
    for (let batch = 0; batch < 10; batch++) {
      idle.push(...(await Promise.all(Array.from({ length: 100 }, () => RawClient.open(hub.url)))));
    }
    assert.equal(hub.node.sessions.size, 1_001);
    await watcher.assertHealthy(hub);
    await waitFor(() => idle.every((c) => c.closed !== undefined), 'every idle socket to be closed', 10_000);
    assert.ok(idle.every((c) => c.closed?.code === CloseCode.CONNECT_TIMEOUT));
    assert.equal(hub.node.sessions.size, 1);
    assert.equal(hub.node.limits.perIp.openFrom('127.0.0.1'), 1);
    assert.equal(hub.node.limits.hits.connectTimeout, 1_000);
    await watcher.assertHealthy(hub);
  });
});

describe('a text frame in the binary flavour and a binary frame in the JSON flavour', () => {
  it('are decoded in the negotiated format whatever the opcode', async () => {
    const hub = await startSecureHub();
    const ws = new WebSocket(hub.url, [SUBPROTOCOLS.json]);
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(Buffer.from('{"t":"connect","id":1,"token":"x"}'));
    assert.equal(await closed, CloseCode.UNAUTHORIZED);
    await hub.stop();
  });
});
