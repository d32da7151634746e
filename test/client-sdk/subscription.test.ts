import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '@switchboard/protocol';
import WebSocket from 'ws';
import {
  Client,
  ClientErrorCode,
  type ClientOptions,
  type Publication,
  type SubscribedEvent,
  type Subscription,
  type SwitchboardError,
  type UnsubscribedEvent,
} from '../../client-sdk/src/index.js';
import { startHub, type TestHub } from '../support/hub.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { sleep, waitFor } from '../support/wait.js';
import { nextEvent, subscribersOf, wireSubscriptions } from './helpers.js';
import { socketAt, tap } from './tap.js';

const FAST_BACKOFF = { initialMs: 10, maxMs: 50 };

/** Everything a handle reported, in order. */
function record(sub: Subscription) {
  const seen = {
    publications: [] as Publication[],
    subscribed: [] as SubscribedEvent[],
    unsubscribed: [] as UnsubscribedEvent[],
    errors: [] as SwitchboardError[],
    data: () => seen.publications.map((p) => p.data),
  };
  sub.on('publication', (p) => seen.publications.push(p));
  sub.on('subscribed', (e) => seen.subscribed.push(e));
  sub.on('unsubscribed', (e) => seen.unsubscribed.push(e));
  sub.on('error', (e) => seen.errors.push(e));
  return seen;
}

describe('Subscriptions', { timeout: 60_000 }, () => {
  let hub: TestHub;
  const clients: Client[] = [];
  const hubs: TestHub[] = [];
  const balancers: TcpProxy[] = [];

  function client(url: string, options: ClientOptions = {}): Client {
    const made = new Client(url, { WebSocket, backoff: FAST_BACKOFF, ...options });
    clients.push(made);
    return made;
  }

  before(async () => {
    hub = await startHub({ strictNamespaces: true, namespaces: { ch: {}, other: {} } });
    hubs.push(hub);
  });

  after(async () => {
    for (const made of clients) made.close();
    for (const started of hubs) await started.stop();
    for (const balancer of balancers) await balancer.close();
  });

  it('two subscribers of one channel make one wire subscription', async () => {
    const tapped = tap();
    const c = client(hub.url, { WebSocket: tapped.WebSocket });
    const a = c.subscribe('ch:shared');
    const b = c.subscribe('ch:shared');
    await Promise.all([a.ready, b.ready]);
    assert.equal(socketAt(tapped, 0).framesOf('sub').length, 1);
    assert.equal(subscribersOf(hub, 'ch:shared'), 1);
    const seenA = record(a);
    const seenB = record(b);
    await c.publish('ch:shared', 'x');
    await waitFor(() => seenA.publications.length === 1 && seenB.publications.length === 1, 'both handles');
  });

  it('the last handle leaving unsubscribes on the wire', async () => {
    const tapped = tap();
    const c = client(hub.url, { WebSocket: tapped.WebSocket });
    const a = c.subscribe('ch:leaving');
    const b = c.subscribe('ch:leaving');
    await Promise.all([a.ready, b.ready]);
    a.unsubscribe();
    assert.equal(a.state, 'unsubscribed');
    assert.equal(b.state, 'subscribed');
    assert.equal(socketAt(tapped, 0).framesOf('unsub').length, 0);
    const seenB = record(b);
    await c.publish('ch:leaving', 1);
    await waitFor(() => seenB.publications.length === 1, 'the remaining handle still receives');
    b.unsubscribe();
    assert.deepEqual(socketAt(tapped, 0).framesOf('unsub'), [
      { t: 'unsub', id: socketAt(tapped, 0).sent.at(-1)?.id, ch: 'ch:leaving' },
    ]);
    await waitFor(() => subscribersOf(hub, 'ch:leaving') === 0, 'the hub to drop the subscription');
    assert.equal(c.lastPosition('ch:leaving'), undefined);
  });

  it('a handle released while its wire subscription is in flight leaves no wire subscription', async () => {
    const tapped = tap();
    const c = client(hub.url, { WebSocket: tapped.WebSocket });
    c.connect();
    await nextEvent(c, 'connected');
    const sub = c.subscribe('ch:in-flight');
    sub.unsubscribe();
    await assert.rejects(sub.ready, { code: ClientErrorCode.UNSUBSCRIBED });
    // A later request's reply proves the hub has handled the earlier sub and unsub.
    await c.publish('ch:in-flight', 1);
    const socket = socketAt(tapped, 0);
    assert.deepEqual(
      socket.sent.filter((f) => f.t === 'sub' || f.t === 'unsub').map((f) => f.t),
      ['sub', 'unsub'],
    );
    assert.deepEqual(wireSubscriptions(hub).flat().includes('ch:in-flight'), false);
  });

  it('subscribing again while the release is in flight ends with exactly one wire subscription', async () => {
    const tapped = tap();
    const c = client(hub.url, { WebSocket: tapped.WebSocket });
    c.connect();
    await nextEvent(c, 'connected');
    const first = c.subscribe('ch:again');
    const seenFirst = record(first);
    first.unsubscribe();
    const second = c.subscribe('ch:again');
    const seenSecond = record(second);
    await second.ready;
    assert.equal(subscribersOf(hub, 'ch:again'), 1);
    await c.publish('ch:again', 'after');
    await waitFor(() => seenSecond.publications.length === 1, 'the new handle receives');
    assert.deepEqual(seenSecond.data(), ['after']);
    assert.deepEqual(seenSecond.subscribed.length, 1);
    assert.deepEqual(seenFirst.publications, []);
    assert.deepEqual(
      socketAt(tapped, 0)
        .sent.filter((f) => f.t === 'sub' || f.t === 'unsub')
        .map((f) => f.t),
      ['sub', 'unsub', 'sub'],
    );
  });

  it('handles released before there is a connection send nothing', async () => {
    const tapped = tap();
    const c = client(hub.url, { WebSocket: tapped.WebSocket });
    const gone = c.subscribe('ch:never');
    gone.unsubscribe();
    const kept = c.subscribe('ch:kept');
    await kept.ready;
    assert.deepEqual(
      socketAt(tapped, 0)
        .sent.filter((f) => f.t === 'sub' || f.t === 'unsub')
        .map((f) => [f.t, f.ch]),
      [['sub', 'ch:kept']],
    );
  });

  it("a handle joining a subscribed channel gets 'subscribed' and later publications, with no second wire sub", async () => {
    const tapped = tap();
    const c = client(hub.url, { WebSocket: tapped.WebSocket });
    const first = c.subscribe('ch:join');
    await first.ready;
    const ack = await c.publish('ch:join', 'before');
    await waitFor(() => c.lastPosition('ch:join')?.off === ack.off, 'the first publication');
    const late = c.subscribe('ch:join');
    const seenLate = record(late);
    await late.ready;
    assert.deepEqual(seenLate.subscribed, [{ position: { ep: ack.ep, off: ack.off } }]);
    await c.publish('ch:join', 'after');
    await waitFor(() => seenLate.publications.length === 1, 'the late handle receives');
    assert.deepEqual(seenLate.data(), ['after']);
    assert.equal(socketAt(tapped, 0).framesOf('sub').length, 1);
  });

  it('tracks the last position per channel', async () => {
    const c = client(hub.url);
    const sub = c.subscribe('ch:last');
    const seen = record(sub);
    await sub.ready;
    assert.equal(c.lastPosition('ch:last')?.off, 0);
    await c.publish('ch:last', 1);
    const ack = await c.publish('ch:last', 2);
    await waitFor(() => seen.publications.length === 2, 'two publications');
    assert.deepEqual(c.lastPosition('ch:last'), { ep: ack.ep, off: ack.off });
    assert.deepEqual(seen.publications.at(-1), { channel: 'ch:last', position: { ep: ack.ep, off: ack.off }, data: 2 });
  });

  it('100 channels share one socket, and each publication reaches exactly the handles of its channel', async () => {
    const c = client(hub.url);
    const publisher = client(hub.url);
    const channels = Array.from({ length: 100 }, (_, i) => `ch:many-${i}`);
    // Every third channel has two handles.
    const handles = channels.flatMap((channel, i) =>
      Array.from({ length: i % 3 === 0 ? 2 : 1 }, () => {
        const sub = c.subscribe(channel);
        return { channel, sub, seen: record(sub) };
      }),
    );
    await Promise.all(handles.map(({ sub }) => sub.ready));
    const sessionsOfC = wireSubscriptions(hub).filter((channelsOfSession) => channelsOfSession.includes('ch:many-0'));
    assert.equal(sessionsOfC.length, 1);
    assert.equal(sessionsOfC[0]?.filter((channel) => channel.startsWith('ch:many-')).length, 100);
    await Promise.all(channels.map((channel) => publisher.publish(channel, channel)));
    await waitFor(() => handles.every(({ seen }) => seen.publications.length >= 1), 'every handle to receive', 10_000);
    for (const { channel, seen } of handles) assert.deepEqual(seen.data(), [channel]);
  });

  it('reconnect resubscribes everything, resuming from the last position', async () => {
    const moving = await startHub();
    const balancer = await TcpProxy.start(moving.port);
    balancers.push(balancer);
    const tapped = tap();
    const c = client(balancer.urlFor(moving.url), { WebSocket: tapped.WebSocket });
    const subs = ['a', 'b', 'c'].map((channel) => c.subscribe(channel));
    const seen = subs.map(record);
    await Promise.all(subs.map((sub) => sub.ready));
    const acks = await Promise.all(subs.map((sub) => c.publish(sub.channel, 'old')));
    await waitFor(() => seen.every((s) => s.publications.length === 1), 'the first publications');
    await moving.stop();
    const restarted = await startHub();
    hubs.push(restarted);
    balancer.retarget(restarted.port);
    await waitFor(() => subs.every((sub) => sub.state === 'subscribed') && tapped.sockets.length >= 2, 'resubscribed');
    const resubscribes = tapped.sockets.at(-1)?.framesOf('sub') ?? [];
    assert.deepEqual(
      resubscribes.map((frame) => [frame.ch, frame.since]).sort(),
      subs.map((sub, i) => [sub.channel, { ep: acks[i]?.ep, off: acks[i]?.off }]),
    );
    assert.deepEqual(wireSubscriptions(restarted), [['a', 'b', 'c']]);
    for (const s of seen) {
      assert.equal(s.subscribed.length, 2);
      // The new hub's memory broker has no history: a new epoch, so nothing could be recovered.
      assert.equal(s.subscribed[1]?.recovered, false);
    }
    await Promise.all(subs.map((sub) => c.publish(sub.channel, 'new')));
    await waitFor(() => seen.every((s) => s.publications.length === 2), 'publications of the new epoch');
    for (const s of seen) assert.deepEqual(s.data(), ['old', 'new']);
  });

  it('duplicate pushes are dropped', async () => {
    const tapped = tap();
    const c = client(hub.url, { WebSocket: tapped.WebSocket });
    const sub = c.subscribe('ch:dupes');
    const seen = record(sub);
    await sub.ready;
    const socket = socketAt(tapped, 0);
    socket.duplicate = true;
    const acks = [];
    for (const n of [1, 2, 3]) acks.push(await c.publish('ch:dupes', n));
    await waitFor(() => seen.publications.length >= 3, 'three publications');
    const ep = acks[0]?.ep as string;
    socket.inject({ t: 'msg', ch: 'ch:dupes', ep, off: 2, d: 'replayed' });
    socket.inject({ t: 'msg', ch: 'ch:dupes', d: 'live-only' });
    assert.deepEqual(seen.data(), [1, 2, 3, 'live-only']);
    assert.deepEqual(c.lastPosition('ch:dupes'), { ep, off: 3 });
  });

  it('a push after a lost one makes the client resume from its last position and get the lost one', async () => {
    const tapped = tap();
    const c = client(hub.url, { WebSocket: tapped.WebSocket });
    const sub = c.subscribe('ch:gap');
    const seen = record(sub);
    await sub.ready;
    const publish = (data: number) =>
      fetch(`${hub.http}/api/publish`, { method: 'POST', body: JSON.stringify({ channel: 'ch:gap', data }) });
    await publish(1);
    await waitFor(() => seen.publications.length === 1, 'the first publication');
    const socket = socketAt(tapped, 0);
    socket.deaf = true;
    await publish(2);
    await sleep(50);
    socket.deaf = false;
    await publish(3);
    await waitFor(() => seen.publications.length === 3, 'the lost publication and the next one');
    assert.deepEqual(seen.data(), [1, 2, 3]);
    const resumed = socket.framesOf('sub').at(-1);
    assert.equal(resumed?.since?.off, 1, 'resubscribed from the last position seen');
    assert.equal(socket.framesOf('unsub').length, 1);
    assert.equal(c.lastPosition('ch:gap')?.off, 3);
  });

  it("an unsubd push ends the channel's handles and the channel is not resubscribed", async () => {
    const tapped = tap();
    const c = client(hub.url, { WebSocket: tapped.WebSocket });
    const ended = c.subscribe('ch:revoked');
    const kept = c.subscribe('ch:kept-after-revoke');
    const seenEnded = record(ended);
    await Promise.all([ended.ready, kept.ready]);
    socketAt(tapped, 0).inject({
      t: 'unsubd',
      ch: 'ch:revoked',
      code: ErrorCode.PERMISSION_DENIED,
      msg: 'grant revoked',
    });
    assert.equal(ended.state, 'unsubscribed');
    assert.deepEqual(seenEnded.unsubscribed, [{ code: ErrorCode.PERMISSION_DENIED, reason: 'grant revoked' }]);
    socketAt(tapped, 0).inject({ t: 'drain', after: 0 });
    // Make-before-break: `kept` stays subscribed throughout; its move is the next socket's `sub`.
    await waitFor(() => tapped.sockets.length === 2 && socketAt(tapped, 1).framesOf('sub').length > 0, 'moved');
    assert.deepEqual(
      socketAt(tapped, 1)
        .framesOf('sub')
        .map((frame) => frame.ch),
      ['ch:kept-after-revoke'],
    );
  });

  it("a refused subscription rejects 'ready' and ends its handles", async () => {
    const c = client(hub.url);
    const sub = c.subscribe('nowhere:at-all');
    const seen = record(sub);
    await assert.rejects(sub.ready, { code: ErrorCode.UNKNOWN_CHANNEL, temporary: false });
    assert.equal(sub.state, 'unsubscribed');
    assert.deepEqual(
      seen.unsubscribed.map((e) => e.code),
      [ErrorCode.UNKNOWN_CHANNEL],
    );
    assert.deepEqual(
      seen.errors.map((e) => e.code),
      [ErrorCode.UNKNOWN_CHANNEL],
    );
    assert.equal(c.state, 'connected');
  });

  it('a temporarily refused subscription is retried', async () => {
    const tapped = tap();
    const c = client(hub.url, { WebSocket: tapped.WebSocket });
    c.connect();
    await nextEvent(c, 'connected');
    const socket = socketAt(tapped, 0);
    socket.mute = true;
    const sub = c.subscribe('ch:retried');
    const seen = record(sub);
    const [refused] = socket.framesOf('sub');
    assert.ok(refused);
    socket.mute = false;
    socket.inject({
      t: 'err',
      id: refused.id,
      code: ErrorCode.NOT_AVAILABLE,
      msg: 'broker is not available',
      tmp: true,
    });
    assert.equal(sub.state, 'subscribing');
    await sub.ready;
    assert.deepEqual(
      seen.errors.map((e) => [e.code, e.temporary]),
      [[ErrorCode.NOT_AVAILABLE, true]],
    );
    assert.equal(socket.framesOf('sub').length, 2);
    assert.equal(subscribersOf(hub, 'ch:retried'), 1);
  });

  it('handles become subscribing while the connection is down', async () => {
    const tapped = tap();
    const c = client(hub.url, { WebSocket: tapped.WebSocket });
    const sub = c.subscribe('ch:down');
    const seen = record(sub);
    await sub.ready;
    socketAt(tapped, 0).terminate();
    await nextEvent(c, 'disconnected');
    assert.equal(sub.state, 'subscribing');
    await nextEvent(sub, 'subscribed');
    assert.equal(sub.state, 'subscribed');
    // It resumed from its last position, so the hub says whether that worked.
    assert.equal(typeof seen.subscribed.at(-1)?.recovered, 'boolean');
  });
});
