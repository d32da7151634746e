import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloseCode, ErrorCode } from '@switchboard/protocol';
import { startHub, type TestHub } from '../../support/hub.js';
import { RawClient } from '../../support/raw-client.js';
import { waitFor } from '../../support/wait.js';

describe('session', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startHub({
      limits: { maxSubscriptionsPerConnection: 3, connectTimeoutSeconds: 1 },
      namespaces: { ro: { clientPublish: false } },
    });
  });
  after(() => hub.stop());

  it('answers every command before connect with error 110 and subscribes nothing', async () => {
    const client = await RawClient.open(hub.url);
    const reply = await client.request({ t: 'sub', ch: 'news' });
    assert.equal(reply.t, 'err');
    assert.equal(reply.t === 'err' && reply.code, ErrorCode.NOT_CONNECTED);
    assert.equal(hub.node.streams.channelCount, 0);
    client.close();
  });

  it('refuses a second connect with error 113', async () => {
    const client = await RawClient.connected(hub.url);
    const reply = await client.request({ t: 'connect' });
    assert.equal(reply.t === 'err' && reply.code, ErrorCode.ALREADY_CONNECTED);
    client.close();
  });

  it('replies to a well-formed but invalid frame with error 107 and keeps the connection', async () => {
    const client = await RawClient.connected(hub.url);
    const bad = await client.request({ t: 'sub', ch: 'has space' });
    assert.equal(bad.t === 'err' && bad.code, ErrorCode.BAD_REQUEST);
    assert.match(bad.t === 'err' ? bad.msg : '', /ch: invalid channel name/);
    client.send({ t: 'launch', id: 77 });
    await waitFor(() => client.frames.some((f) => f.t === 'err' && f.id === 77), 'reply to an unknown command');
    client.send({ no: 'id' });
    await waitFor(() => client.frames.some((f) => f.t === 'err' && f.id === 0), 'reply with id 0');
    assert.equal((await client.request({ t: 'ping' })).t, 'ok');
    assert.equal(client.closed, undefined);
    client.close();
  });

  it('closes a socket that sends bytes that are not a frame with 4500', async () => {
    const client = await RawClient.connected(hub.url, 'json');
    client.sendBytes('{"t":');
    assert.equal((await client.waitClosed()).code, CloseCode.MALFORMED_FRAME);
  });

  it('closes a socket that never sends connect with 4006', async () => {
    const client = await RawClient.open(hub.url);
    assert.equal((await client.waitClosed()).code, CloseCode.CONNECT_TIMEOUT);
  });

  it('refuses a duplicate subscription with 105 and the one over the limit with 106', async () => {
    const client = await RawClient.connected(hub.url);
    await client.ok({ t: 'sub', ch: 'a' });
    const again = await client.request({ t: 'sub', ch: 'a' });
    assert.equal(again.t === 'err' && again.code, ErrorCode.ALREADY_SUBSCRIBED);
    await client.ok({ t: 'sub', ch: 'b' });
    await client.ok({ t: 'sub', ch: 'c' });
    const over = await client.request({ t: 'sub', ch: 'd' });
    assert.equal(over.t === 'err' && over.code, ErrorCode.LIMIT_EXCEEDED);
    client.close();
  });

  it('replies to subscribe with the channel position, then pushes each later publication', async () => {
    const client = await RawClient.connected(hub.url);
    const first = (await client.ok({ t: 'pub', ch: 'pos', d: 1 })) as { ep: string; off: number };
    const subscribed = (await client.ok({ t: 'sub', ch: 'pos' })) as { ep: string; off: number };
    assert.deepEqual(subscribed, first);
    await client.ok({ t: 'pub', ch: 'pos', d: { two: 2 } });
    await waitFor(() => client.publications('pos').length === 1, 'the push');
    assert.deepEqual(client.publications('pos'), [{ t: 'msg', ch: 'pos', off: 2, d: { two: 2 } }]);
    client.close();
  });

  it('stops delivering after unsubscribe, which is idempotent', async () => {
    const client = await RawClient.connected(hub.url);
    await client.ok({ t: 'sub', ch: 'u' });
    await client.ok({ t: 'unsub', ch: 'u' });
    await client.ok({ t: 'unsub', ch: 'u' });
    await client.ok({ t: 'pub', ch: 'u', d: 1 });
    await client.ok({ t: 'ping' });
    assert.equal(client.publications('u').length, 0);
    client.close();
  });

  it('refuses a client publish where the namespace forbids it with 103', async () => {
    const client = await RawClient.connected(hub.url);
    const reply = await client.request({ t: 'pub', ch: 'ro:1', d: 1 });
    assert.equal(reply.t === 'err' && reply.code, ErrorCode.PERMISSION_DENIED);
    client.close();
  });

  it('releases the hub subscriptions of a closed socket', async () => {
    const client = await RawClient.connected(hub.url);
    await client.ok({ t: 'sub', ch: 'gone' });
    const before = hub.node.streams.channelCount;
    client.close();
    await waitFor(() => hub.node.streams.channelCount === before - 1, 'the channel to be released');
  });

  it('gives exactly one reply per request, in order for subscribe and unsubscribe', async () => {
    const client = await RawClient.connected(hub.url);
    for (let i = 0; i < 20; i++) client.send({ t: i % 2 === 0 ? 'sub' : 'unsub', id: 1000 + i, ch: 'order' });
    await waitFor(() => client.frames.filter((f) => f.t === 'ok' || f.t === 'err').length >= 21, 'twenty replies');
    const ids = client.frames.flatMap((f) => (f.t === 'ok' && f.id >= 1000 ? [f.id] : []));
    assert.deepEqual(
      ids,
      Array.from({ length: 20 }, (_, i) => 1000 + i),
    );
    await client.ok({ t: 'ping' });
    assert.equal(hub.node.sessions.size > 0, true);
    const session = [...hub.node.sessions].find((s) => s.channels.has('order'));
    assert.equal(session, undefined, 'the last command was an unsubscribe');
    client.close();
  });
});
