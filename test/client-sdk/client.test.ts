import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloseCode, ErrorCode } from '@switchboard/protocol';
import WebSocket from 'ws';
import {
  Client,
  ClientErrorCode,
  type ClientOptions,
  type ClientState,
  type DisconnectedEvent,
  SwitchboardError,
  type WebSocketConstructor,
} from '../../client-sdk/src/index.js';
import { startHub, type TestHub } from '../support/hub.js';
import { sleep, waitFor } from '../support/wait.js';
import { nextEvent } from './helpers.js';
import { socketAt, tap } from './tap.js';

const FAST_BACKOFF = { initialMs: 10, maxMs: 50 };

describe('Client', { timeout: 60_000 }, () => {
  let hub: TestHub;
  const clients: Client[] = [];
  const hubs: TestHub[] = [];

  function client(url: string, options: ClientOptions = {}): Client {
    const made = new Client(url, { WebSocket, backoff: FAST_BACKOFF, ...options });
    clients.push(made);
    return made;
  }

  async function extraHub(overrides: Parameters<typeof startHub>[0]): Promise<TestHub> {
    const started = await startHub(overrides);
    hubs.push(started);
    return started;
  }

  before(async () => {
    hub = await extraHub({ namespaces: { ro: { clientPublish: false } } });
  });

  after(async () => {
    for (const made of clients) made.close();
    for (const started of hubs) await started.stop();
  });

  it('opens with a connect frame carrying the token, name and version, before any other frame', async () => {
    const tapped = tap();
    const c = client(hub.url, { WebSocket: tapped.WebSocket, token: 'secret', name: 'tests', version: '1.2.3' });
    c.subscribe('handshake');
    await c.publish('handshake', 1);
    assert.equal(socketAt(tapped, 0).binaryType, 'arraybuffer');
    assert.equal(socketAt(tapped, 0).protocol, 'switchboard.v2.msgpack');
    const [first, ...rest] = socketAt(tapped, 0).sent;
    assert.deepEqual(first, { t: 'connect', id: 1, token: 'secret', name: 'tests', version: '1.2.3' });
    assert.deepEqual(rest.map((frame) => frame.t).sort(), ['pub', 'sub']);
  });

  it('a connect refused with an expired token is retried with a fresh token', async () => {
    // The first socket never reaches the hub, so the test can answer its connect itself.
    const tapped = tap((socket, index) => {
      socket.mute = index === 0;
    });
    let calls = 0;
    const c = client(hub.url, { WebSocket: tapped.WebSocket, token: () => `token-${++calls}` });
    const error = nextEvent(c, 'error');
    c.connect();
    await waitFor(() => tapped.sockets[0]?.framesOf('connect').length === 1, 'the first connect');
    socketAt(tapped, 0).inject({ t: 'err', id: 1, code: ErrorCode.TOKEN_EXPIRED, msg: 'token expired' });
    assert.equal((await error).code, ErrorCode.TOKEN_EXPIRED);
    await nextEvent(c, 'connected');
    assert.equal(socketAt(tapped, 1).framesOf('connect')[0]?.token, 'token-2');
  });

  it('a connect refused for good closes the client and ends its subscriptions', async () => {
    const tapped = tap((socket) => {
      socket.mute = true;
    });
    const c = client(hub.url, { WebSocket: tapped.WebSocket, token: 'revoked' });
    const sub = c.subscribe('refused');
    const unsubscribed = nextEvent(sub, 'unsubscribed');
    const error = nextEvent(c, 'error');
    await waitFor(() => tapped.sockets[0]?.framesOf('connect').length === 1, 'the connect');
    socketAt(tapped, 0).inject({ t: 'err', id: 1, code: ErrorCode.UNAUTHORIZED, msg: 'bad token' });
    assert.deepEqual(await unsubscribed, { code: ErrorCode.UNAUTHORIZED, reason: 'bad token' });
    assert.equal((await error).code, ErrorCode.UNAUTHORIZED);
    assert.equal(c.state, 'closed');
    await assert.rejects(sub.ready, { code: ErrorCode.UNAUTHORIZED });
  });

  it('moves through idle, connecting and connected, and connect() is idempotent', async () => {
    const c = client(hub.url);
    const states: ClientState[] = [];
    c.on('state', (state) => states.push(state));
    assert.equal(c.state, 'idle');
    const connected = nextEvent(c, 'connected');
    c.connect();
    c.connect();
    const result = await connected;
    assert.equal(result.v, 2);
    assert.deepEqual(states, ['connecting', 'connected']);
    assert.equal(hub.node.sessions.size >= 1, true);
  });

  it('calls a token function again before every reconnect', async () => {
    const tapped = tap();
    let calls = 0;
    const c = client(hub.url, { WebSocket: tapped.WebSocket, token: async () => `token-${++calls}` });
    c.connect();
    await nextEvent(c, 'connected');
    socketAt(tapped, 0).terminate();
    await nextEvent(c, 'connected');
    assert.equal(calls, 2);
    assert.deepEqual(
      tapped.sockets.map((socket) => socket.framesOf('connect')[0]?.token),
      ['token-1', 'token-2'],
    );
  });

  it('reports a failing token function and keeps trying', async () => {
    let calls = 0;
    const c = client(hub.url, {
      token: () => {
        calls += 1;
        if (calls === 1) throw new Error('token service down');
        return 'ok';
      },
    });
    const error = nextEvent(c, 'error');
    c.connect();
    assert.equal((await error).code, ClientErrorCode.TOKEN);
    assert.equal((await error).temporary, true);
    await nextEvent(c, 'connected');
  });

  it('numbers requests from 1 upwards, across reconnects', async () => {
    const tapped = tap();
    const c = client(hub.url, { WebSocket: tapped.WebSocket });
    c.subscribe('ids');
    await c.publish('ids', 'a');
    socketAt(tapped, 0).terminate();
    await nextEvent(c, 'connected');
    await c.publish('ids', 'b');
    const ids = tapped.sockets.flatMap((socket) => socket.sent.map((frame) => frame.id));
    assert.equal(ids[0], 1);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
    );
    assert.equal(new Set(ids).size, ids.length);
  });

  it("publish resolves with the hub's position", async () => {
    const c = client(hub.url);
    const first = await c.publish('positions', { n: 1 });
    const second = await c.publish('positions', { n: 2 });
    assert.equal(typeof first.ep, 'string');
    assert.equal(second.ep, first.ep);
    assert.equal(second.off, (first.off ?? 0) + 1);
  });

  it('publish to a namespace where clients may not publish rejects with code 103', async () => {
    const c = client(hub.url);
    const error = await c.publish('ro:feed', 1).then(
      () => assert.fail('publish succeeded'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof SwitchboardError);
    assert.equal(error.code, ErrorCode.PERMISSION_DENIED);
    assert.equal(error.temporary, false);
    assert.match(error.message, /ro/);
  });

  it('a publish issued before there is a connection waits for it', async () => {
    const c = client(hub.url);
    assert.equal(c.state, 'idle');
    const result = await c.publish('early', 'hello');
    assert.equal(typeof result.off, 'number');
    assert.equal(c.state, 'connected');
  });

  it('a publish that finds no hub within the request timeout rejects with a temporary timeout', async () => {
    const gone = await startHub();
    await gone.stop();
    const c = client(gone.url, { requestTimeoutMs: 300 });
    const error = await c.publish('nowhere', 1).then(
      () => assert.fail('publish succeeded'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof SwitchboardError);
    assert.equal(error.code, ClientErrorCode.TIMEOUT);
    assert.equal(error.temporary, true);
    assert.equal(c.state, 'connecting');
  });

  it('a request whose reply never comes times out, once', async () => {
    const tapped = tap();
    const c = client(hub.url, { WebSocket: tapped.WebSocket, requestTimeoutMs: 300 });
    c.connect();
    await nextEvent(c, 'connected');
    socketAt(tapped, 0).deaf = true;
    let settlements = 0;
    const error = await c.publish('deaf', 1).then(
      () => {
        settlements += 1;
      },
      (e: unknown) => {
        settlements += 1;
        return e;
      },
    );
    assert.ok(error instanceof SwitchboardError);
    assert.equal(error.code, ClientErrorCode.TIMEOUT);
    assert.equal(settlements, 1);
  });

  it('pending requests fail with a temporary error when the socket drops', async () => {
    const tapped = tap();
    const c = client(hub.url, { WebSocket: tapped.WebSocket });
    c.connect();
    await nextEvent(c, 'connected');
    const socket = socketAt(tapped, 0);
    socket.deaf = true;
    const pending = [c.publish('drop', 1), c.publish('drop', 2)];
    const disconnected = nextEvent(c, 'disconnected');
    socket.terminate();
    for (const result of await Promise.allSettled(pending)) {
      assert.equal(result.status, 'rejected');
      const error = (result as PromiseRejectedResult).reason;
      assert.ok(error instanceof SwitchboardError);
      assert.equal(error.code, ClientErrorCode.DISCONNECTED);
      assert.equal(error.temporary, true);
    }
    const event = await disconnected;
    assert.equal(event.code, 1006);
    assert.equal(event.reconnect, true);
    await nextEvent(c, 'connected');
  });

  it('a connection that went silent is found by an unanswered ping and replaced', async () => {
    const pinging = await extraHub({ clientPingSeconds: 1 });
    const tapped = tap();
    const c = client(pinging.url, { WebSocket: tapped.WebSocket, requestTimeoutMs: 500 });
    const sub = c.subscribe('silent');
    await sub.ready;
    const first = socketAt(tapped, 0);
    const disconnected = nextEvent(c, 'disconnected');
    first.deaf = true;
    const event = await disconnected;
    assert.equal(event.reconnect, true);
    assert.match(event.reason, /ping/);
    assert.ok(first.framesOf('ping').length >= 1);
    await nextEvent(c, 'connected');
    await waitFor(() => sub.state === 'subscribed', 'resubscribed');
    assert.equal(socketAt(tapped, 1).framesOf('sub').length, 1);
  });

  it('pings keep a quiet connection open', async () => {
    const pinging = await extraHub({ clientPingSeconds: 1 });
    const tapped = tap();
    const c = client(pinging.url, { WebSocket: tapped.WebSocket, requestTimeoutMs: 500 });
    c.connect();
    await nextEvent(c, 'connected');
    await waitFor(() => socketAt(tapped, 0).framesOf('ping').length >= 3, 'three pings', 10_000);
    assert.equal(c.state, 'connected');
    assert.equal(tapped.sockets.length, 1);
  });

  it('a terminal close code from the hub stops reconnecting', async () => {
    const tapped = tap();
    const c = client(hub.url, { WebSocket: tapped.WebSocket });
    const errors: SwitchboardError[] = [];
    c.on('error', (error) => errors.push(error));
    const sub = c.subscribe('terminal');
    await sub.ready;
    const socket = socketAt(tapped, 0);
    socket.mute = true;
    const pending = c.publish('terminal', 1);
    // Truncated msgpack: the hub can no longer trust the stream and closes with 4500.
    socket.sendRaw(new Uint8Array([0x92]));
    const event = await nextEvent(c, 'disconnected');
    assert.deepEqual(
      { code: event.code, reconnect: event.reconnect },
      { code: CloseCode.MALFORMED_FRAME, reconnect: false },
    );
    assert.equal(c.state, 'closed');
    await assert.rejects(pending, { code: ClientErrorCode.DISCONNECTED });
    assert.equal(sub.state, 'unsubscribed');
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.code, ClientErrorCode.CLOSED);
    await sleep(200);
    assert.equal(tapped.sockets.length, 1);
  });

  it('refuses a publish over the hub frame limit locally and keeps the connection', async () => {
    const small = await extraHub({ limits: { maxFrameBytes: 1024 } });
    const c = client(small.url);
    c.connect();
    await nextEvent(c, 'connected');
    await assert.rejects(c.publish('big', 'x'.repeat(2000)), { code: ClientErrorCode.FRAME_TOO_LARGE });
    assert.equal(c.state, 'connected');
    assert.equal((await c.publish('big', 'small')).off, 1);
  });

  it('close code 1009 (frame too large) is terminal, codes below 4500 reconnect', async () => {
    const tapped = tap();
    const c = client(hub.url, { WebSocket: tapped.WebSocket });
    c.connect();
    await nextEvent(c, 'connected');
    const events: DisconnectedEvent[] = [];
    c.on('disconnected', (event) => events.push(event));
    socketAt(tapped, 0).closeAs(4321, 'unknown');
    await nextEvent(c, 'connected');
    socketAt(tapped, 1).closeAs(CloseCode.FRAME_TOO_LARGE, 'too big');
    await waitFor(() => c.state === 'closed', 'closed');
    assert.deepEqual(
      events.map((event) => [event.code, event.reconnect]),
      [
        [4321, true],
        [1009, false],
      ],
    );
  });

  it('on a drain push the next socket is open and delivering before the old one closes: nothing missed, doubled or paused', async () => {
    const draining = await extraHub({});
    const tapped = tap();
    const c = client(draining.url, { WebSocket: tapped.WebSocket });
    const sub = c.subscribe('moving');
    const seen: unknown[] = [];
    sub.on('publication', (publication) => seen.push(publication.data));
    await sub.ready;
    const events: DisconnectedEvent[] = [];
    c.on('disconnected', (event) => events.push(event));
    const publishing = (async () => {
      for (let i = 1; i <= 40; i++) {
        const body = JSON.stringify({ channel: 'moving', data: i });
        await fetch(`${draining.http}/api/publish`, { method: 'POST', body });
      }
    })();
    await waitFor(() => seen.length >= 5, 'the first publications');
    const [old] = draining.node.sessions;
    old?.send({ t: 'drain', after: 0 });
    await publishing;
    await waitFor(() => seen.length >= 40, 'every publication');
    assert.deepEqual(
      seen,
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    assert.deepEqual(events, [], 'the client was never without a connection');
    assert.equal(tapped.sockets.length, 2);
    await waitFor(() => old?.isClosed === true, 'the old socket to close');
    assert.equal(draining.node.sessions.size, 1);
    const [move] = socketAt(tapped, 1).framesOf('sub');
    assert.equal(move?.ch, 'moving');
    assert.ok(move?.since, 'the move resumes after where the channel stood');
  });

  it('frames that fail to decode are reported and ignored', async () => {
    const tapped = tap();
    const c = client(hub.url, { WebSocket: tapped.WebSocket });
    c.connect();
    await nextEvent(c, 'connected');
    const errors: SwitchboardError[] = [];
    c.on('error', (error) => errors.push(error));
    const socket = socketAt(tapped, 0);
    socket.injectBytes(new Uint8Array([0xc1]));
    socket.inject({ t: 'msg', ch: 'x', ep: 'e' });
    socket.inject({ t: 'nonsense' });
    assert.deepEqual(
      errors.map((error) => error.code),
      [ClientErrorCode.BAD_FRAME, ClientErrorCode.BAD_FRAME, ClientErrorCode.BAD_FRAME],
    );
    await c.publish('still-works', 1);
    assert.equal(tapped.sockets.length, 1);
  });

  it('close() is for good: pending requests fail, subscribing throws, nothing reconnects', async () => {
    const tapped = tap();
    const c = client(hub.url, { WebSocket: tapped.WebSocket });
    const sub = c.subscribe('closing');
    await sub.ready;
    socketAt(tapped, 0).deaf = true;
    const pending = c.publish('closing', 1);
    const errors: SwitchboardError[] = [];
    c.on('error', (error) => errors.push(error));
    c.close();
    assert.equal(c.state, 'closed');
    assert.equal(sub.state, 'unsubscribed');
    await assert.rejects(pending, { code: ClientErrorCode.CLOSED, temporary: false });
    await assert.rejects(c.publish('closing', 2), { code: ClientErrorCode.CLOSED });
    assert.throws(() => c.subscribe('closing'), { code: ClientErrorCode.CLOSED });
    c.connect();
    assert.equal(c.state, 'closed');
    assert.deepEqual(errors, []);
    await sleep(100);
    assert.equal(tapped.sockets.length, 1);
  });

  it('without a WebSocket implementation the constructor says how to pass one', () => {
    // Node 20 has no global WebSocket; a browser's would satisfy the option's type.
    const browser: WebSocketConstructor | undefined = (globalThis as { WebSocket?: typeof globalThis.WebSocket })
      .WebSocket;
    assert.equal(browser, undefined);
    assert.throws(() => new Client(hub.url), { code: ClientErrorCode.NO_WEBSOCKET, message: /ws/ });
  });

  it('speaks the JSON flavour in text frames', async () => {
    const tapped = tap();
    const c = client(hub.url, { WebSocket: tapped.WebSocket, format: 'json' });
    const sub = c.subscribe('json-flavour');
    const received = nextEvent(sub, 'publication');
    await sub.ready;
    const ack = await c.publish('json-flavour', { text: 'héllo', list: [1, 2] });
    const publication = await received;
    assert.deepEqual(publication.data, { text: 'héllo', list: [1, 2] });
    assert.deepEqual(publication.position, { ep: ack.ep, off: ack.off });
    const socket = socketAt(tapped, 0);
    assert.equal(socket.protocol, 'switchboard.v2.json');
    assert.ok(socket.sentText.every(Boolean));
  });
});
