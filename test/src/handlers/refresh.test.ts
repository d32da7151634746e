import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '@switchboard/protocol';
import { connected, mint, SECRET } from '../../security/support.js';
import { startHub, type TestHub } from '../../support/hub.js';

const API_KEY = 'refresh-handler-test-api-key';

describe('refresh with a revoked token', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startHub({
      auth: { keys: [{ alg: 'HS256', secret: SECRET }] },
      http: { apiKey: API_KEY },
    } as unknown as Parameters<typeof startHub>[0]);
  });
  after(() => hub.stop());

  const token = (claims: Record<string, unknown>) => mint({ sub: 'rory', ...claims }, { alg: 'HS256' });

  it('is refused with 101 and changes nothing: the connection keeps its token and stays open', async () => {
    const client = await connected(hub.url, await token({ jti: 'current' }));
    const revoke = await fetch(`${hub.http}/api/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({ tokenId: 'stolen', until: Date.now() + 60_000 }),
    });
    assert.equal(revoke.status, 200);
    const reply = await client.request({ t: 'refresh', token: await token({ jti: 'stolen' }) });
    assert.deepEqual(reply.t === 'err' && [reply.code, reply.msg], [ErrorCode.UNAUTHORIZED, 'token revoked']);
    assert.equal(client.closed, undefined);
    const fresh = await client.request({ t: 'refresh', token: await token({ jti: 'next' }) });
    assert.equal(fresh.t, 'ok', 'a token not revoked is accepted');
    client.close();
  });
});
