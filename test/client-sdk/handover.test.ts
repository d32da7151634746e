/**
 * Make-before-break (client-sdk/src/handover.ts): when its hub drains, the Client opens the next
 * link and moves every channel there while the old link keeps delivering, and closes the old one
 * only then. The test plays both hubs over links in memory.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ErrorCode } from '@switchboard/protocol';
import {
  Client,
  type ClientOptions,
  type DisconnectedEvent,
  type Publication,
  type SubscribedEvent,
  type Subscription,
} from '../../client-sdk/src/index.js';
import { sleep } from '../support/wait.js';
import { ScriptedHub, type ScriptedLink } from './scripted-hub.js';

const E = 'E';

/** What a handle heard, in order. */
function record(handle: Subscription) {
  const seen = { offsets: [] as number[], subscribed: [] as SubscribedEvent[] };
  handle.on('publication', (publication: Publication) => seen.offsets.push(publication.position?.off ?? -1));
  handle.on('subscribed', (event) => seen.subscribed.push(event));
  return seen;
}

describe('a Client whose hub drains (make-before-break)', () => {
  const clients: Client[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  /** A client live on `channels` of the first link, each at offset 0 of epoch E, and what it heard. */
  async function live(channels: string[], options: ClientOptions = {}) {
    const hub = new ScriptedHub();
    const client = new Client('memory://hub', { link: hub.dial, backoff: { initialMs: 1, maxMs: 2 }, ...options });
    clients.push(client);
    const handles = channels.map((channel) => client.subscribe(channel));
    const seen = handles.map(record);
    const old = await hub.connected();
    for (const channel of channels) old.subscribed(channel, { ep: E, off: 0 });
    const disconnects: DisconnectedEvent[] = [];
    client.on('disconnected', (event) => disconnects.push(event));
    return { hub, client, old, seen, disconnects };
  }

  /** The hub of `old` drains: resolves with the next link, connected. */
  async function drain(hub: ScriptedHub, old: ScriptedLink): Promise<ScriptedLink> {
    old.hub({ t: 'drain', after: 0 });
    return hub.connected();
  }

  it('moves every channel to the next link after where it stands, while the old one keeps delivering; nothing is heard twice', async () => {
    const { hub, client, old, seen, disconnects } = await live(['a', 'b']);
    old.msg('a', E, 1);
    old.msg('a', E, 2);
    old.msg('b', E, 1);
    const next = await drain(hub, old);
    assert.deepEqual(next.subscriptions(), [
      ['sub', 'a', { ep: E, off: 2 }],
      ['sub', 'b', { ep: E, off: 1 }],
    ]);
    // The old hub goes on delivering while the next one answers.
    old.msg('a', E, 3);
    assert.equal(old.closed, undefined);
    next.subscribed('a', { ep: E, off: 3, rec: true });
    next.msg('a', E, 3); // its replay of what the old link delivered already
    next.msg('a', E, 4);
    old.msg('a', E, 4);
    old.msg('a', E, 5); // no longer taken from the old link: `a` is on the next one
    assert.deepEqual(seen[0]?.offsets, [1, 2, 3, 4]);
    next.msg('a', E, 5);
    assert.equal(old.closed, undefined, 'b has not moved yet');
    next.subscribed('b', { ep: E, off: 1, rec: true });
    assert.deepEqual(old.closed, { code: 1000, reason: 'drain' }, 'closed once every channel delivers on the next');
    next.msg('b', E, 2);
    assert.deepEqual(
      seen.map((s) => s.offsets),
      [
        [1, 2, 3, 4, 5],
        [1, 2],
      ],
    );
    assert.deepEqual(
      seen.map((s) => s.subscribed.length),
      [1, 1],
      'no handle heard of the move',
    );
    assert.deepEqual(disconnects, []);
    assert.equal(client.state, 'connected');
  });

  it('waits for the replies still due on the old link before closing it', async () => {
    const { hub, client, old } = await live(['a']);
    const published = client.publish('a', 'x');
    const next = await drain(hub, old);
    next.subscribed('a', { ep: E, off: 0, rec: true });
    assert.equal(old.closed, undefined, 'a publish awaits its reply on the old link');
    old.hub({ t: 'ok', id: old.last('pub').id, r: { ep: E, off: 1 } });
    assert.deepEqual(await published, { ep: E, off: 1 });
    assert.deepEqual(old.closed, { code: 1000, reason: 'drain' });
    void client.publish('a', 'y').catch(() => undefined);
    assert.equal(next.frames('pub').length, 1, 'the next link is the one in use');
  });

  it('a move the next hub refuses leaves the channel on the old link, then subscribes it afresh on the next', async () => {
    const { hub, old, seen } = await live(['a', 'b']);
    const next = await drain(hub, old);
    next.hub({
      t: 'err',
      id: next.lastSub('b').id,
      code: ErrorCode.NOT_AVAILABLE,
      msg: 'broker is not available',
      tmp: true,
    });
    old.msg('b', E, 1);
    next.subscribed('a', { ep: E, off: 0, rec: true });
    assert.deepEqual(old.closed, { code: 1000, reason: 'drain' });
    assert.deepEqual(next.subscriptions().slice(2), [
      ['unsub', 'b'],
      ['sub', 'b', { ep: E, off: 1 }],
    ]);
    next.subscribed('b', { ep: E, off: 1, rec: true });
    next.msg('b', E, 2);
    assert.deepEqual(seen[1]?.offsets, [1, 2]);
  });

  it('hands over at once when the old link closes before the move finished', async () => {
    const { hub, old, seen, disconnects } = await live(['a']);
    const next = await drain(hub, old);
    old.drop(4000, 'hub shutting down');
    next.subscribed('a', { ep: E, off: 0, rec: true });
    next.msg('a', E, 1);
    assert.deepEqual(seen[0]?.offsets, [1]);
    assert.deepEqual(disconnects, [], 'the next link was connected: no moment without one');
  });

  it('when the next link fails, the channels it carried resubscribe on the old one from where they stand, and the move is tried again', async () => {
    const { hub, old, seen } = await live(['a', 'b']);
    const next = await drain(hub, old);
    next.subscribed('a', { ep: E, off: 0, rec: true });
    next.msg('a', E, 1);
    old.msg('a', E, 1);
    old.msg('a', E, 2); // not taken: `a` is on the next link
    old.msg('b', E, 1); // taken: `b` has not moved yet
    next.drop(1006);
    assert.deepEqual(old.subscriptions().slice(2), [
      ['unsub', 'a'],
      ['sub', 'a', { ep: E, off: 1 }],
    ]);
    old.hub({ t: 'ok', id: old.last('unsub').id });
    old.subscribed('a', { ep: E, off: 2, rec: true });
    old.msg('a', E, 2);
    old.msg('b', E, 2);
    assert.deepEqual(
      seen.map((s) => s.offsets),
      [
        [1, 2],
        [1, 2],
      ],
    );
    const again = await hub.connected();
    assert.deepEqual(again.subscriptions(), [
      ['sub', 'a', { ep: E, off: 2 }],
      ['sub', 'b', { ep: E, off: 2 }],
    ]);
    again.subscribed('a', { ep: E, off: 2, rec: true });
    again.subscribed('b', { ep: E, off: 2, rec: true });
    assert.deepEqual(old.closed, { code: 1000, reason: 'drain' });
  });

  it('a channel whose move is not recovered is told so, as after a reconnection', async () => {
    const { hub, old, seen } = await live(['a']);
    old.msg('a', E, 1);
    const next = await drain(hub, old);
    next.subscribed('a', { ep: 'F', off: 0, rec: false, why: 'epoch_changed' });
    next.msg('a', 'F', 1);
    assert.deepEqual(seen[0]?.subscribed.at(-1), {
      position: { ep: 'F', off: 0 },
      recovered: false,
      reason: 'epoch_changed',
    });
    assert.deepEqual(seen[0]?.offsets, [1, 1]);
  });

  it('a link that is told to drain while it is itself the next one moves on once it is in use', async () => {
    const { hub, old } = await live(['a']);
    const next = await drain(hub, old);
    next.hub({ t: 'drain', after: 0 });
    next.subscribed('a', { ep: E, off: 0, rec: true });
    const third = await hub.connected();
    assert.deepEqual(third.subscriptions(), [['sub', 'a', { ep: E, off: 0 }]]);
    third.subscribed('a', { ep: E, off: 0, rec: true });
    assert.deepEqual(next.closed, { code: 1000, reason: 'drain' });
    await sleep(20);
    assert.equal(hub.links.length, 3, 'and moves no further');
  });
});
