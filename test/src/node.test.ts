import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloseCode } from '@switchboard/protocol';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { FallbackTransportRefused, SwitchboardNode } from '../../src/node.js';
import { loadUws } from '../../src/transport/uws.js';
import { startHub } from '../support/hub.js';
import { RawClient } from '../support/raw-client.js';

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

  it('closes its clients with 4000 when stopping, so they reconnect elsewhere', async () => {
    const hub = await startHub();
    const client = await RawClient.connected(hub.url);
    await hub.stop();
    assert.equal((await client.waitClosed()).code, CloseCode.SHUTDOWN);
  });
});
