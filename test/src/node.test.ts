import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloseCode } from '@switchboard/protocol';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { FallbackTransportRefused, SwitchboardNode } from '../../src/node.js';
import { loadUws } from '../../src/transport/uws.js';
import { startHub } from '../support/hub.js';
import { RawClient } from '../support/raw-client.js';
import { waitFor } from '../support/wait.js';

const silent = createLogger('silent');

describe('node', () => {
  it('runs on the native uWebSockets.js build here', () => {
    assert.equal(loadUws().native, true);
  });

  it('refuses to run on the pure-JS fallback unless allowed', () => {
    const fallback = { uws: loadUws().uws, native: false };
    assert.throws(() => new SwitchboardNode(parseConfig({ port: 0 }), silent, fallback), FallbackTransportRefused);
    assert.doesNotThrow(
      () => new SwitchboardNode(parseConfig({ port: 0, allowFallbackTransport: true }), silent, fallback),
    );
  });

  it('fails to start on a port another hub holds instead of sharing it', async () => {
    const hub = await startHub();
    const second = new SwitchboardNode(parseConfig({ host: '127.0.0.1', port: hub.port }), silent);
    await assert.rejects(second.start(), /cannot listen on 127\.0\.0\.1:\d+/);
    await second.stop();
    await hub.stop();
  });

  it('drains on stop: not ready at once, serving through the delay, then a drain push to each client, 4000 for stragglers', async () => {
    const hub = await startHub({ shutdownDelaySeconds: 0.4, shutdownGraceSeconds: 1 });
    const leaves = await RawClient.connected(hub.url);
    const stays = await RawClient.connected(hub.url);
    leaves.ws.on('message', () => {
      if (leaves.frames.some((f) => f.t === 'drain')) leaves.close();
    });
    const stopping = hub.stop();
    // During the delay: out of the balancer, refusing new clients, serving the ones it has and HTTP publishes.
    const ready = await fetch(`${hub.http}/readyz`);
    assert.equal(ready.status, 503, 'not ready while draining');
    assert.deepEqual(await ready.json(), { status: 'not ready', reasons: ['shutting down'] });
    assert.equal((await fetch(`${hub.http}/healthz`)).status, 200, 'alive while draining');
    await assert.rejects(RawClient.open(hub.url), /Unexpected server response: 503/);
    const published = await fetch(`${hub.http}/api/publish`, {
      method: 'POST',
      body: JSON.stringify({ channel: 'drain', data: 1 }),
    });
    assert.equal(published.status, 200, 'HTTP publishes are served until the end');
    assert.equal(published.headers.get('connection'), 'close', 'and their keep-alive connections move on');
    await stays.ok({ t: 'ping' });
    assert.equal(
      stays.frames.some((f) => f.t === 'drain'),
      false,
      'nobody is sent away before the balancer had its delay',
    );
    await waitFor(() => stays.frames.some((f) => f.t === 'drain'), 'the drain push');
    const drain = stays.frames.find((f) => f.t === 'drain');
    assert.ok(drain?.t === 'drain' && drain.after === 0, 'the hub spreads the pushes itself: move at once');
    await stopping;
    assert.equal((await stays.waitClosed()).code, CloseCode.SHUTDOWN);
    assert.notEqual((await leaves.waitClosed()).code, CloseCode.SHUTDOWN, 'the client that left was not closed');
  });

  it('never exits before the delay, even with no client left, since HTTP publishes may still arrive', async () => {
    const hub = await startHub({ shutdownDelaySeconds: 0.3, shutdownGraceSeconds: 5 });
    const started = Date.now();
    await hub.stop();
    const took = Date.now() - started;
    assert.ok(took >= 300 && took < 5_000, `stopped after ${took} ms: the delay, and no grace period without clients`);
  });

  it('spreads the drain pushes over the first half of the grace period', async () => {
    const hub = await startHub({ shutdownGraceSeconds: 1 });
    const clients = await Promise.all(Array.from({ length: 10 }, () => RawClient.connected(hub.url)));
    const heard: number[] = [];
    const started = Date.now();
    for (const client of clients) {
      client.ws.once('message', () => {
        heard.push(Date.now() - started);
        client.close();
      });
    }
    await hub.stop();
    assert.equal(heard.length, 10);
    const spread = Math.max(...heard) - Math.min(...heard);
    assert.ok(spread >= 300 && spread <= 700, `pushes spread over ${spread} ms of the first 500`);
  });

  it('closes its clients with 4000 when stopping, so they reconnect elsewhere', async () => {
    const hub = await startHub();
    const client = await RawClient.connected(hub.url);
    await hub.stop();
    assert.equal((await client.waitClosed()).code, CloseCode.SHUTDOWN);
  });
});
