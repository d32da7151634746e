import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiAccess } from '../../../src/auth/api-key.js';
import { HttpSettings } from '../../../src/auth/config.js';
import { parseConfig } from '../../../src/config.js';
import { startHub, type TestHub } from '../../support/hub.js';

const KEY = 'service-key-0123456789abcdef';

describe('HTTP publish API key', () => {
  let hub: TestHub;
  const post = (headers: Record<string, string>) =>
    fetch(`${hub.http}/api/publish`, { method: 'POST', headers, body: JSON.stringify({ channel: 'svc', data: 1 }) });
  before(async () => {
    hub = await startHub({ http: { apiKey: KEY } });
  });
  after(() => hub.stop());

  it('publishes with Authorization: Bearer <key>', async () => {
    assert.equal((await post({ authorization: `Bearer ${KEY}` })).status, 200);
    assert.equal((await post({ authorization: `bearer   ${KEY}` })).status, 200);
  });

  it('answers 401 without the key or with a wrong one, even from loopback', async () => {
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: KEY },
      { authorization: `Basic ${KEY}` },
    ];
    for (const headers of attempts) {
      const response = await post(headers);
      assert.equal(response.status, 401, JSON.stringify(headers));
      assert.match(((await response.json()) as { error: string }).error, /API key is required/);
    }
    assert.equal((await post({ authorization: `Bearer ${KEY}x` })).status, 401);
  });
});

describe('ApiAccess without a key', () => {
  const access = (settings: object) => new ApiAccess(HttpSettings.parse(settings));

  it('serves loopback only by default, and nobody when off', () => {
    const loopback = access({});
    assert.equal(loopback.check('', '127.0.0.1'), undefined);
    assert.equal(loopback.check('', '::1'), undefined);
    assert.equal(loopback.check('', '192.0.2.10')?.status, '403 Forbidden');
    const off = access({ publishWithoutKey: 'off' });
    assert.equal(off.check('', '127.0.0.1')?.status, '403 Forbidden');
  });

  it('needs a key of at least 24 characters', () => {
    assert.throws(() => parseConfig({ http: { apiKey: 'short' } }), /http\.apiKey: at least 24 characters/);
  });
});
