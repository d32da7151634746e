import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHub, type TestHub } from '../../support/hub.js';
import { SseTestClient } from '../../support/sse-client.js';
import { waitFor } from '../../support/wait.js';

const publish = (hub: TestHub, channel: string, data: unknown) =>
  fetch(`${hub.http}/api/publish`, { method: 'POST', body: JSON.stringify({ channel, data }) });

describe('GET /sse: a stream of protocol frames for clients without WebSockets', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startHub({ origins: ['https://app.example'] });
  });
  after(() => hub.stop());

  it('names its connection and key first, then connects and subscribes the channels of the URL', async () => {
    const stream = await SseTestClient.connected(`${hub.http}/sse?ch=news&ch=sport`);
    assert.equal(stream.events[0]?.event, 'stream');
    assert.match(stream.client, new RegExp(`^${hub.node.id}\\.`));
    assert.ok(stream.key.length >= 24);
    await waitFor(() => stream.reply(3) !== undefined, 'both subscribes');
    assert.deepEqual(stream.reply(1), {
      t: 'ok',
      id: 1,
      r: { ...(stream.reply(1)?.r as object), client: stream.client },
    });
    assert.equal(stream.reply(2)?.t, 'ok');
    assert.equal(stream.reply(3)?.t, 'ok');
    stream.close();
  });

  it('prints each publication of its channels as one event, as it is published (the README curl line)', async () => {
    const stream = await SseTestClient.connected(`${hub.http}/sse?ch=feed`);
    await waitFor(() => stream.reply(2) !== undefined, 'the subscribe');
    for (let i = 1; i <= 3; i++) assert.equal((await publish(hub, 'feed', { n: i })).status, 200);
    await waitFor(() => stream.publications('feed').length === 3, 'three publications');
    assert.deepEqual(stream.publications('feed'), [
      [1, { n: 1 }],
      [2, { n: 2 }],
      [3, { n: 3 }],
    ]);
    const raw = stream.events.filter((event) => event.event === 'message').map((event) => event.data);
    assert.ok(raw.includes('["feed",1,{"n":1}]'), 'the JSON flavour of protocol v2, one frame per event');
    stream.close();
  });

  it('refuses a channel name that is not one, and an origin not allowed, before any stream exists', async () => {
    const bad = await fetch(`${hub.http}/sse?ch=${encodeURIComponent('a b')}`);
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { error: 'invalid channel name in ch' });
    const foreign = await fetch(`${hub.http}/sse`, { headers: { origin: 'https://evil.example' } });
    assert.equal(foreign.status, 403);
    const allowed = await SseTestClient.connected(`${hub.http}/sse`, { headers: { origin: 'https://app.example' } });
    allowed.close();
  });

  it('ends the session and its subscriptions when the client goes away', async () => {
    const stream = await SseTestClient.connected(`${hub.http}/sse?ch=gone`);
    await waitFor(() => stream.reply(2) !== undefined, 'the subscribe');
    assert.equal(hub.node.streams.members('gone'), 1);
    stream.close();
    await waitFor(() => hub.node.streams.members('gone') === 0, 'the channel left');
    const open = () => [...hub.node.sessions].some((session) => session.id === stream.client);
    await waitFor(() => !open(), 'the session closed');
  });
});

describe('POST /sse/cmd: a stream’s commands, answered on the stream', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startHub({ limits: { maxHttpBodyBytes: 4096 } });
  });
  after(() => hub.stop());

  it('takes frames from a POST as the session takes WebSocket frames; replies and pushes come on the stream', async () => {
    const stream = await SseTestClient.connected(`${hub.http}/sse`);
    await waitFor(() => stream.reply(1) !== undefined, 'the connect');
    const sub = await stream.request(hub.http, { t: 'sub', ch: 'chat' });
    assert.equal(sub.t, 'ok');
    const posted = await stream.post(hub.http, [
      { t: 'pub', ch: 'chat', d: { text: 'hi' } },
      { t: 'pub', ch: 'chat', d: { text: 'again' } },
    ]);
    assert.equal(posted.status, 202);
    assert.deepEqual(posted.body, { taken: 2 });
    await waitFor(() => stream.publications('chat').length === 2, 'both pushes');
    for (const id of posted.ids) assert.equal(stream.reply(id)?.t, 'ok');
    assert.deepEqual(stream.publications('chat'), [
      [1, { text: 'hi' }],
      [2, { text: 'again' }],
    ]);
    const unsub = await stream.request(hub.http, { t: 'unsub', ch: 'chat' });
    assert.equal(unsub.t, 'ok');
    assert.equal(hub.node.streams.members('chat'), 0);
    stream.close();
  });

  it('answers 404 for a stream it does not know or a wrong key, alike', async () => {
    const stream = await SseTestClient.connected(`${hub.http}/sse`);
    const wrongKey = await stream.post(hub.http, [{ t: 'ping' }], 'x'.repeat(24));
    assert.equal(wrongKey.status, 404);
    assert.deepEqual(wrongKey.body, { error: 'no such stream: open a new one' });
    stream.close();
    await waitFor(() => stream.ended, 'the stream ended');
    const afterClose = await stream.post(hub.http, [{ t: 'ping' }]);
    assert.equal(afterClose.status, 404);
  });

  it('answers a body that is not a command with 400, and one over the limit with 413', async () => {
    const post = (body: string) => fetch(`${hub.http}/sse/cmd`, { method: 'POST', body });
    assert.equal((await post('{')).status, 400);
    const wrong = await post(JSON.stringify({ s: 'a.1', k: 'k', f: [] }));
    assert.equal(wrong.status, 400);
    assert.match(((await wrong.json()) as { error: string }).error, /^expected \{"s": client id/);
    assert.equal((await post(JSON.stringify({ s: 'a.1', k: 'k', f: ['x'.repeat(8192)] }))).status, 413);
  });

  it('checks each frame like a WebSocket frame: a bad one gets its 107 on the stream', async () => {
    const stream = await SseTestClient.connected(`${hub.http}/sse`);
    await waitFor(() => stream.reply(1) !== undefined, 'the connect');
    const reply = await stream.request(hub.http, { t: 'pub', ch: 'x' });
    assert.equal(reply.t, 'err');
    assert.equal(reply.code, 107);
    stream.close();
  });
});

describe('POST /sse/ticket: what EventSource puts in its URL instead of a token', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startHub();
  });
  after(() => hub.stop());

  const ticket = async (init: { body?: string; headers?: Record<string, string> }) => {
    const response = await fetch(`${hub.http}/sse/ticket`, { method: 'POST', ...init });
    return { status: response.status, body: (await response.json()) as { ticket: string; expiresInMs: number } };
  };

  it('trades a connect frame for a ticket good for one stream; the token never goes in a URL', async () => {
    const { status, body } = await ticket({ body: JSON.stringify({ t: 'connect', id: 7, name: 'page' }) });
    assert.equal(status, 200);
    assert.equal(body.expiresInMs, 30_000);
    assert.match(body.ticket, /^[A-Za-z0-9_-]{24}$/);
    const stream = await SseTestClient.connected(`${hub.http}/sse?ticket=${body.ticket}`);
    await waitFor(() => stream.reply(7) !== undefined, 'the connect reply, with the frame’s own id');
    assert.equal(stream.reply(7)?.t, 'ok');
    const again = await fetch(`${hub.http}/sse?ticket=${body.ticket}`);
    assert.equal(again.status, 401);
    assert.deepEqual(await again.json(), { error: 'ticket unknown, used or expired' });
    stream.close();
  });

  it('takes the token from the Authorization header; a malformed ticket or body is refused with a reason', async () => {
    const { status, body } = await ticket({ headers: { authorization: 'Bearer not-checked-until-connect' } });
    assert.equal(status, 200);
    assert.ok(!body.ticket.includes('not-checked'));
    assert.equal((await fetch(`${hub.http}/sse?ticket=short`)).status, 401);
    const bad = await ticket({ body: JSON.stringify({ t: 'sub', id: 1, ch: 'x' }) });
    assert.equal(bad.status, 400);
  });
});

describe('POST /sse: HTTP streaming over fetch, the connect frame in the body', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startHub();
  });
  after(() => hub.stop());

  it('streams the same events as GET', async () => {
    const stream = await SseTestClient.connected(`${hub.http}/sse?ch=posted`, {
      body: JSON.stringify({ t: 'connect', id: 5 }),
    });
    await waitFor(() => stream.reply(6) !== undefined, 'the connect and the subscribe');
    await publish(hub, 'posted', 'x');
    await waitFor(() => stream.publications('posted').length === 1, 'the publication');
    stream.close();
  });
});
