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

  it('drains on stop: not ready, new connections refused, a jittered drain push to each client, 4000 for stragglers', async () => {
    const hub = await startHub({ shutdownGraceSeconds: 1 });
    const leaves = await RawClient.connected(hub.url);
    const stays = await RawClient.connected(hub.url);
    leaves.ws.on('message', () => {
      if (leaves.frames.some((f) => f.t === 'drain')) leaves.close();
    });
    const stopping = hub.stop();
    await waitFor(() => stays.frames.some((f) => f.t === 'drain'), 'the drain push');
    const ready = await fetch(`${hub.http}/readyz`);
    assert.equal(ready.status, 503, 'not ready while draining');
    assert.deepEqual(await ready.json(), { status: 'not ready', reasons: ['shutting down'] });
    assert.equal((await fetch(`${hub.http}/healthz`)).status, 200, 'alive while draining');
    await assert.rejects(RawClient.open(hub.url), /Unexpected server response: 503/);
    const drain = stays.frames.find((f) => f.t === 'drain');
    assert.ok(drain?.t === 'drain' && drain.after >= 0 && drain.after <= 500, 'a delay within half the grace period');
    await stopping;
    assert.equal((await stays.waitClosed()).code, CloseCode.SHUTDOWN);
    assert.notEqual((await leaves.waitClosed()).code, CloseCode.SHUTDOWN, 'the client that left was not closed');
  });

  it('closes its clients with 4000 when stopping, so they reconnect elsewhere', async () => {
    const hub = await startHub();
    const client = await RawClient.connected(hub.url);
    await hub.stop();
    assert.equal((await client.waitClosed()).code, CloseCode.SHUTDOWN);
  });
});
