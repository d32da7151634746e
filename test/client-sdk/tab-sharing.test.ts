import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import WebSocket from 'ws';
import { hostOptions } from '../../client-sdk/src/connect.js';
import { Client, type Publication, portLink, WorkerHost } from '../../client-sdk/src/index.js';
import type { PortLike, TabMessage, WorkerMessage } from '../../client-sdk/src/tab-protocol.js';
import { startHub, type TestHub } from '../support/hub.js';
import { waitFor } from '../support/wait.js';
import { subscribersOf, wireSubscriptions } from './helpers.js';

/** The worker's side and the tabs' side in one process, joined by real MessageChannels. */
const PING_MS = 50;
const FAST_BACKOFF = { initialMs: 10, maxMs: 50 };

describe('sharing one connection across tabs (WorkerHost, and Clients on port links)', { timeout: 30_000 }, () => {
  let hub: TestHub;
  let server: WorkerHost;
  const tabs = new Set<Client>();
  const ports = new Set<PortLike>();

  const portTo = (target: () => WorkerHost) => () => {
    const { port1, port2 } = new MessageChannel();
    target().accept(port2 as unknown as PortLike);
    ports.add(port1 as unknown as PortLike);
    return port1 as unknown as PortLike;
  };
  /** A tab's Client, as `connect(url, { shareAcrossTabs: true })` makes it. */
  const tabOn = (target: () => WorkerHost, token?: () => Promise<string>) => {
    const link = portLink({
      openPort: portTo(target),
      host: hostOptions({ backoff: FAST_BACKOFF, ...(token ? { token } : {}) }),
      token,
      pingMs: PING_MS,
    });
    const tab = new Client(hub.url, { link, backoff: FAST_BACKOFF });
    tabs.add(tab);
    return tab;
  };
  const openTab = (token?: () => Promise<string>) => tabOn(() => server, token);
  const collect = (tab: Client, channel: string) => {
    const seen: Publication[] = [];
    const subscription = tab.subscribe(channel);
    subscription.on('publication', (publication) => seen.push(publication));
    return { subscription, seen };
  };

  beforeEach(async () => {
    hub = await startHub();
    server = new WorkerHost({ client: { WebSocket }, pingMs: PING_MS });
  });

  afterEach(async () => {
    for (const tab of tabs) tab.close();
    tabs.clear();
    server.close();
    for (const port of ports) port.close();
    ports.clear();
    await hub.stop();
  });

  it('gives two tabs one socket, each tab its own channels, counted across tabs', async () => {
    const first = openTab();
    const second = openTab();
    const news1 = collect(first, 'news');
    const news2 = collect(second, 'news');
    const extra = collect(second, 'extra');
    await Promise.all([news1.subscription.ready, news2.subscription.ready, extra.subscription.ready]);
    assert.deepEqual(wireSubscriptions(hub), [['extra', 'news']]);

    await first.publish('news', 1);
    await first.publish('extra', 2);
    await waitFor(() => news1.seen.length === 1 && news2.seen.length === 1 && extra.seen.length === 1, 'deliveries');
    assert.deepEqual(
      [news1.seen, news2.seen, extra.seen].map((seen) => seen.map((p) => [p.channel, p.data])),
      [[['news', 1]], [['news', 1]], [['extra', 2]]],
    );

    second.close();
    await waitFor(() => subscribersOf(hub, 'extra') === 0, 'the closed tab’s channel to be released');
    assert.deepEqual(wireSubscriptions(hub), [['news']]);
    assert.equal(first.state, 'connected');
  });

  it('releases the channels of a tab that stops answering pings', async () => {
    const kept = collect(openTab(), 'kept');
    await kept.subscription.ready;
    // A tab that joins, subscribes and then goes silent, as a crashed or frozen one does.
    const silent = portTo(() => server)();
    silent.onmessage = (event) => {
      if ((event.data as WorkerMessage).t !== 'open') return;
      silent.postMessage({ t: 'frame', s: 1, f: { t: 'connect', id: 1 } } satisfies TabMessage);
      silent.postMessage({ t: 'frame', s: 1, f: { t: 'sub', id: 2, ch: 'orphan' } } satisfies TabMessage);
    };
    silent.postMessage({ t: 'open', s: 1, url: hub.url, options: {} } satisfies TabMessage);
    await waitFor(() => subscribersOf(hub, 'orphan') === 1, 'the silent tab’s subscription');
    await waitFor(() => subscribersOf(hub, 'orphan') === 0, 'the silent tab to be released', 2_000);
    assert.equal(server.tabCount, 1);
    assert.equal(subscribersOf(hub, 'kept'), 1);
  });

  it('rejoins a new worker when the old one goes silent, resuming where it was', async () => {
    let current = server;
    const tab = tabOn(() => current);
    const feed = collect(tab, 'resumed');
    await feed.subscription.ready;
    await tab.publish('resumed', 'before');
    await waitFor(() => feed.seen.length === 1, 'the first publication');

    // The worker dies: its ports go quiet and its socket closes. The browser would start a new one.
    const old = current;
    current = new WorkerHost({ client: { WebSocket }, pingMs: PING_MS });
    old.close();
    await waitFor(() => hub.node.sessions.size === 0, 'the old worker’s socket to close');
    const url = `${hub.http}/api/publish`;
    await fetch(url, { method: 'POST', body: JSON.stringify({ channel: 'resumed', data: 'while away' }) });
    await waitFor(() => current.tabCount === 1 && subscribersOf(hub, 'resumed') === 1, 'the tab to rejoin', 3_000);
    await tab.publish('resumed', 'after');
    await waitFor(() => feed.seen.length === 3, 'the missed and the new publication');
    assert.deepEqual(
      feed.seen.map((p) => [p.position?.off, p.data]),
      [
        [1, 'before'],
        [2, 'while away'],
        [3, 'after'],
      ],
    );
    current.close();
  });

  it('replays to a tab resuming behind a channel another tab holds, from its own position', async () => {
    const holderTab = openTab();
    const holder = collect(holderTab, 'held');
    await holder.subscription.ready;
    await holderTab.publish('held', 1);
    await holderTab.publish('held', 2);
    await waitFor(() => holder.seen.length === 2, 'both publications');
    const [one, two] = holder.seen.map((publication) => publication.position);
    assert.ok(one && two);
    const behind = openTab().subscribe('held', { since: one });
    const caughtUp = openTab().subscribe('held', { since: two });
    const replayed: Publication[] = [];
    behind.on('publication', (publication) => replayed.push(publication));
    const events = await Promise.all(
      [behind, caughtUp].map((handle) => new Promise((resolve) => handle.on('subscribed', resolve))),
    );
    assert.deepEqual(events, [
      { position: two, recovered: true },
      { position: two, recovered: true },
    ]);
    await waitFor(() => replayed.length === 1, 'the publication the tab missed');
    assert.deepEqual(replayed[0]?.data, 2);
    await holderTab.publish('held', 3);
    await waitFor(() => holder.seen.length === 3 && replayed.length === 2, 'the next publication in every tab');
    assert.deepEqual(
      holder.seen.map((publication) => publication.data),
      [1, 2, 3],
    );
    assert.equal(hub.node.sessions.size, 1);
  });

  it("moves the worker's connection when its hub drains, and no tab notices: no disconnection, nothing missed or doubled", async () => {
    const tabsOf = [openTab(), openTab()];
    const feeds = tabsOf.map((tab) => collect(tab, 'drained'));
    await Promise.all(feeds.map((feed) => feed.subscription.ready));
    const disconnects: number[] = [];
    for (const tab of tabsOf) tab.on('disconnected', ({ code }) => disconnects.push(code));
    const publishing = (async () => {
      for (let i = 1; i <= 30; i++) {
        const body = JSON.stringify({ channel: 'drained', data: i });
        await fetch(`${hub.http}/api/publish`, { method: 'POST', body });
      }
    })();
    await waitFor(() => feeds.every((feed) => feed.seen.length >= 5), 'the first publications');
    const [old] = hub.node.sessions;
    old?.send({ t: 'drain', after: 0 });
    await publishing;
    await waitFor(() => feeds.every((feed) => feed.seen.length >= 30), 'every publication in every tab');
    for (const feed of feeds)
      assert.deepEqual(
        feed.seen.map((p) => p.data),
        Array.from({ length: 30 }, (_, i) => i + 1),
      );
    assert.deepEqual(disconnects, []);
    await waitFor(() => old?.isClosed === true && hub.node.sessions.size === 1, 'one socket, the new one');
  });

  it('asks the tab for tokens, so token functions work through the worker', async () => {
    let calls = 0;
    const tab = openTab(async () => `token-${++calls}`);
    await tab.subscribe('tokened').ready;
    assert.equal(calls, 1);
    // A reconnect asks again.
    for (const session of hub.node.sessions) session.close(4000, 'test');
    await waitFor(() => calls === 2 && tab.state === 'connected', 'a reconnect with a fresh token');
  });

  it('keeps a tab’s subscriptions through a hub restart', async () => {
    const tab = openTab();
    const feed = collect(tab, 'survives');
    await feed.subscription.ready;
    const port = hub.port;
    await hub.stop();
    hub = await startHub({ port });
    await waitFor(() => subscribersOf(hub, 'survives') === 1, 'the worker to resubscribe', 10_000);
    await fetch(`${hub.http}/api/publish`, { method: 'POST', body: JSON.stringify({ channel: 'survives', data: 1 }) });
    await waitFor(() => feed.seen.length === 1, 'a publication after the restart');
    assert.equal(hub.node.sessions.size, 1);
  });
});
