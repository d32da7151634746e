import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OriginPolicy } from '../../src/auth/origin.js';
import { parseConfig } from '../../src/config.js';
import type { TestHub } from '../support/hub.js';
import { openSocket, startSecureHub, upgradeRefusal, Watcher } from './support.js';

describe('attack: Cross-Site WebSocket Hijacking (allow-list https://app.example.com)', () => {
  let hub: TestHub;
  let watcher: Watcher;
  before(async () => {
    hub = await startSecureHub();
    watcher = await Watcher.start(hub, 'origin');
  });
  after(async () => {
    watcher.close();
    await hub.stop();
  });

  for (const origin of [
    'https://evil.example',
    'https://app.example.com.evil.example',
    'https://evil.example/https://app.example.com',
    'http://app.example.com',
    'https://app.example.com:8443',
    'https://APP.example.com',
    'https://sub.app.example.com',
    'null',
  ]) {
    it(`refuses the upgrade from ${origin} with HTTP 403 and a reason`, async () => {
      const { status, body } = await upgradeRefusal(hub.url, { origin });
      assert.equal(status, 403);
      assert.equal(body, 'origin not allowed');
      await watcher.assertHealthy(hub);
    });
  }

  it('accepts the allowed origin exactly, and non-browser clients without an Origin', async () => {
    const before = hub.node.auth.origins.refused;
    (await openSocket(hub.url, { origin: 'https://app.example.com' })).close();
    (await openSocket(hub.url)).close();
    assert.equal(hub.node.auth.origins.refused, before);
    assert.equal(hub.node.limits.hits.origin, before);
  });

  it('takes only exact origins in the config', () => {
    assert.throws(() => parseConfig({ origins: ['*.example.com'] }), /origins\.0: must be an origin/);
    assert.throws(() => parseConfig({ origins: ['https://app.example.com/'] }), /origins\.0/);
    assert.throws(() => parseConfig({ origins: ['https://App.example.com'] }), /origins\.0/);
    assert.doesNotThrow(() => parseConfig({ origins: ['https://app.example.com', 'http://localhost:3000'] }));
  });

  it('allows any origin when the list is empty (the development default)', () => {
    assert.equal(new OriginPolicy([]).check('https://evil.example'), undefined);
  });
});
