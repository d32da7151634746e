import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RedisService, startRedis } from '../services/index.js';
import { startHub, type TestHub } from '../support/hub.js';
import { SseTestClient } from '../support/sse-client.js';
import { waitFor } from '../support/wait.js';

describe('SSE without sticky sessions: two hubs on one Redis', () => {
  let redis: RedisService;
  let holder: TestHub;
  let other: TestHub;
  before(async () => {
    redis = await startRedis();
    holder = await startHub({ broker: { type: 'redis', url: redis.url } });
    other = await startHub({ broker: { type: 'redis', url: redis.url } });
  });
  after(async () => {
    await other?.stop();
    await holder?.stop();
    await redis?.destroy();
  });

  it('takes a command on the hub without the stream and answers it on the stream, through the control bus', async () => {
    const stream = await SseTestClient.connected(`${holder.http}/sse`);
    await waitFor(() => stream.reply(1) !== undefined, 'the connect');
    const sub = await stream.request(other.http, { t: 'sub', ch: 'forwarded' });
    assert.equal(sub.t, 'ok');
    assert.equal(holder.node.streams.members('forwarded'), 1);
    assert.equal(other.node.streams.members('forwarded'), 0);
    const pub = await stream.request(other.http, { t: 'pub', ch: 'forwarded', d: { via: 'other' } });
    assert.equal(pub.t, 'ok');
    await waitFor(() => stream.publications('forwarded').length === 1, 'the push');
    assert.deepEqual(stream.publications('forwarded'), [[1, { via: 'other' }]]);
    stream.close();
  });

  it('answers 404 on any hub for a stream that ended, and for a wrong key', async () => {
    const stream = await SseTestClient.connected(`${holder.http}/sse`);
    await waitFor(() => stream.reply(1) !== undefined, 'the connect');
    assert.equal((await stream.post(other.http, [{ t: 'ping' }], 'y'.repeat(24))).status, 404);
    stream.close();
    await waitFor(() => ![...holder.node.sessions].some((session) => session.id === stream.client), 'the close');
    const late = await stream.post(other.http, [{ t: 'ping' }]);
    assert.equal(late.status, 404);
    assert.deepEqual(late.body, { error: 'no such stream: open a new one' });
  });

  it('redeems a ticket issued by one hub on the other, once', async () => {
    const issued = await fetch(`${other.http}/sse/ticket`, {
      method: 'POST',
      body: JSON.stringify({ t: 'connect', id: 3 }),
    });
    const { ticket } = (await issued.json()) as { ticket: string };
    const stream = await SseTestClient.connected(`${holder.http}/sse?ticket=${ticket}&ch=ticketed`);
    await waitFor(() => stream.reply(4) !== undefined, 'the connect and the subscribe');
    assert.equal(stream.reply(3)?.t, 'ok');
    assert.equal(stream.reply(4)?.t, 'ok');
    assert.equal((await fetch(`${other.http}/sse?ticket=${ticket}`)).status, 401);
    stream.close();
  });
});
