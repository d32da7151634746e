import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHub, type TestHub } from '../../support/hub.js';
import { RawClient } from '../../support/raw-client.js';
import { waitFor } from '../../support/wait.js';

describe('POST /api/publish', () => {
  let hub: TestHub;
  const post = (body: string) => fetch(`${hub.http}/api/publish`, { method: 'POST', body });
  before(async () => {
    hub = await startHub({ limits: { maxHttpBodyBytes: 2048 } });
  });
  after(() => hub.stop());

  it('publishes {channel, data} and answers with the position', async () => {
    const client = await RawClient.connected(hub.url);
    await client.ok({ t: 'sub', ch: 'sport' });
    const response = await post(JSON.stringify({ channel: 'sport', data: 2 }));
    assert.equal(response.status, 200);
    const ack = (await response.json()) as { epoch: string; offset: number };
    assert.equal(ack.offset, 1);
    await waitFor(() => client.publications('sport').length === 1, 'the push');
    assert.ok(ack.epoch);
    assert.deepEqual(client.publications('sport')[0], { t: 'msg', ch: 'sport', off: 1, d: 2 });
    client.close();
  });

  it('answers a body that is not JSON with 400 and a reason', async () => {
    const response = await post('{"channel":');
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), { error: 'body is not valid JSON' });
  });

  it('answers a body of the wrong shape with 400 naming the field', async () => {
    const missing = await post(JSON.stringify({ channel: 'x' }));
    assert.equal(missing.status, 400);
    assert.match(((await missing.json()) as { error: string }).error, /^data: /);
    const badChannel = await post(JSON.stringify({ channel: 'a b', data: 1 }));
    assert.match(((await badChannel.json()) as { error: string }).error, /^channel: invalid channel name/);
    const extra = await post(JSON.stringify({ channel: 'x', data: 1, surprise: true }));
    assert.equal(extra.status, 400);
  });

  it('answers a body over the limit with 413', async () => {
    const response = await post(JSON.stringify({ channel: 'x', data: 'y'.repeat(4096) }));
    assert.equal(response.status, 413);
  });

  it('keeps serving after bad requests', async () => {
    const response = await post(JSON.stringify({ channel: 'after', data: null }));
    assert.equal(response.status, 200);
  });
});
