/**
 * The channel state machine (client-sdk/src/channel.ts) as specified by protocol/README.md
 * section 4, driven through a Client over an in-memory link on which each test plays the hub.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Position } from '@switchboard/protocol';
import { Client, type SubscribedEvent, type Subscription } from '../../client-sdk/src/index.js';
import { ScriptedHub, type ScriptedLink } from './scripted-hub.js';

type Seen = ['subscribed', SubscribedEvent] | ['publication', Position | undefined, unknown];

/** What a handle heard, in order. */
function record(sub: Subscription) {
  const events: Seen[] = [];
  sub.on('subscribed', (event) => events.push(['subscribed', event]));
  sub.on('publication', (p) => events.push(['publication', p.position, p.data]));
  return {
    events,
    data: () => events.flatMap((event) => (event[0] === 'publication' ? [event[2]] : [])),
    told: () => events.flatMap((event) => (event[0] === 'subscribed' ? [event[1]] : [])),
  };
}

const at = (ep: string, off: number): Position => ({ ep, off });
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('a channel', () => {
  const clients: Client[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  function client(): { client: Client; hub: ScriptedHub } {
    const hub = new ScriptedHub();
    const made = new Client('memory://hub', { link: hub.dial, backoff: { initialMs: 1, maxMs: 2 } });
    clients.push(made);
    return { client: made, hub };
  }

  /** A client with one handle on `c`, subscribed at `reply` (with `since` when given). */
  async function live(reply: Position & { rec?: boolean; why?: string } = at('a', 0), since?: Position) {
    const { client: made, hub } = client();
    const sub = made.subscribe('c', since ? { since } : {});
    const seen = record(sub);
    const link = await hub.connected();
    link.subscribed('c', reply);
    return { client: made, hub, link, sub, seen };
  }

  /** Drops the link and connects the next one. */
  async function reconnect(hub: ScriptedHub, link: ScriptedLink): Promise<ScriptedLink> {
    link.drop();
    return hub.connected();
  }

  describe('publications', () => {
    it('are delivered when they follow the reply position, each with its position', async () => {
      const { link, seen, client: c } = await live();
      link.msg('c', 'a', 1);
      link.msg('c', 'a', 2);
      assert.deepEqual(seen.events.slice(1), [
        ['publication', at('a', 1), 1],
        ['publication', at('a', 2), 2],
      ]);
      assert.deepEqual(c.lastPosition('c'), at('a', 2));
    });

    it('are dropped when already delivered: the same offset again, or an earlier one', async () => {
      const { link, seen } = await live();
      for (const off of [1, 2, 2, 1, 3]) link.msg('c', 'a', off);
      assert.deepEqual(seen.data(), [1, 2, 3]);
    });

    it('that arrive before the sub reply wait for it, then those after its position go out in offset order', async () => {
      const { client: c, hub } = client();
      const seen = record(c.subscribe('c', { since: at('a', 3) }));
      const link = await hub.connected();
      for (const off of [6, 4, 3, 5]) link.msg('c', 'a', off);
      assert.deepEqual(seen.events, []);
      link.subscribed('c', { ep: 'a', off: 6, rec: true });
      assert.deepEqual(seen.told(), [{ position: at('a', 6), recovered: true }]);
      assert.deepEqual(seen.data(), [4, 5, 6]);
    });

    it('without a position (live-only) are delivered as they come, and leave the last position alone', async () => {
      const { link, seen, client: c } = await live(at('a', 1));
      link.hub({ t: 'msg', ch: 'c', d: 'raw' });
      link.hub({ t: 'msg', ch: 'c', d: 'raw' });
      assert.deepEqual(seen.events.slice(1), [
        ['publication', undefined, 'raw'],
        ['publication', undefined, 'raw'],
      ]);
      assert.deepEqual(c.lastPosition('c'), at('a', 1));
    });
  });

  describe('a lost push', () => {
    it('tells the handles the channel was not recovered, why, and where it continues', async () => {
      const { link, seen, client: c } = await live();
      link.msg('c', 'a', 1);
      link.hub({ t: 'lost', ch: 'c', ep: 'b', off: 0, why: 'epoch_changed' });
      assert.deepEqual(seen.told().at(-1), { position: at('b', 0), recovered: false, reason: 'epoch_changed' });
      assert.deepEqual(c.lastPosition('c'), at('b', 0));
    });

    it('is followed by publications from its position on: a new epoch from offset 1', async () => {
      const { link, seen } = await live();
      link.msg('c', 'a', 1);
      link.hub({ t: 'lost', ch: 'c', ep: 'b', off: 0, why: 'epoch_changed' });
      link.msg('c', 'b', 1, 'b1');
      link.msg('c', 'b', 2, 'b2');
      assert.deepEqual(seen.data(), [1, 'b1', 'b2']);
    });

    it('within an epoch skips the lost offsets without resubscribing', async () => {
      const { link, seen } = await live();
      link.msg('c', 'a', 1);
      link.hub({ t: 'lost', ch: 'c', ep: 'a', off: 7, why: 'trimmed' });
      link.msg('c', 'a', 8);
      assert.deepEqual(seen.data(), [1, 8]);
      assert.deepEqual(link.subscriptions(), [['sub', 'c']]);
    });
  });

  describe('a gap', () => {
    it('within an epoch resubscribes after the last position delivered', async () => {
      const { link } = await live();
      link.msg('c', 'a', 1);
      link.msg('c', 'a', 3);
      assert.deepEqual(link.subscriptions(), [
        ['sub', 'c'],
        ['unsub', 'c'],
        ['sub', 'c', at('a', 1)],
      ]);
    });

    it('delivers what arrives while it is repaired after the reply, once and in order', async () => {
      const { link, seen } = await live();
      link.msg('c', 'a', 1);
      link.msg('c', 'a', 3);
      link.msg('c', 'a', 4);
      link.msg('c', 'a', 2);
      link.subscribed('c', { ep: 'a', off: 4, rec: true });
      link.msg('c', 'a', 3);
      link.msg('c', 'a', 5);
      assert.deepEqual(seen.data(), [1, 2, 3, 4, 5]);
    });

    it('repaired by the replay raises no subscribed event', async () => {
      const { link, seen } = await live();
      link.msg('c', 'a', 1);
      link.msg('c', 'a', 3);
      link.subscribed('c', { ep: 'a', off: 3, rec: true });
      link.msg('c', 'a', 2);
      assert.equal(seen.told().length, 1);
      assert.deepEqual(seen.data(), [1, 2, 3]);
    });

    it('answered with a new epoch from offset 0 delivers every publication of that epoch', async () => {
      const { link, seen } = await live();
      link.msg('c', 'a', 1);
      link.msg('c', 'a', 3);
      assert.deepEqual(link.subscriptions().at(-1), ['sub', 'c', at('a', 1)]);
      link.subscribed('c', { ep: 'b', off: 0, rec: false, why: 'epoch_changed' });
      for (const off of [1, 2, 3]) link.msg('c', 'b', off, `b${off}`);
      assert.deepEqual(seen.told().at(-1), { position: at('b', 0), recovered: false, reason: 'epoch_changed' });
      assert.deepEqual(seen.data(), [1, 'b1', 'b2', 'b3']);
    });
  });

  describe('after a reconnection', () => {
    it('every channel resubscribes after its last position', async () => {
      const { hub, link, client: c } = await live();
      c.subscribe('other');
      link.subscribed('other', at('x', 4));
      link.msg('c', 'a', 1);
      const next = await reconnect(hub, link);
      assert.deepEqual(next.subscriptions().sort(), [
        ['sub', 'c', at('a', 1)],
        ['sub', 'other', at('x', 4)],
      ]);
    });

    it('the recovered publications are delivered once, in order, before the reply or after it', async () => {
      const { hub, link, seen } = await live();
      link.msg('c', 'a', 1);
      const next = await reconnect(hub, link);
      next.msg('c', 'a', 3);
      next.msg('c', 'a', 2);
      next.subscribed('c', { ep: 'a', off: 4, rec: true });
      for (const off of [3, 4, 5]) next.msg('c', 'a', off);
      assert.deepEqual(seen.data(), [1, 2, 3, 4, 5]);
      assert.deepEqual(seen.told().at(-1), { position: at('a', 4), recovered: true });
    });

    it('a channel the hub could not recover says why, and continues after the reply position', async () => {
      const { hub, link, seen, client: c } = await live();
      link.msg('c', 'a', 1);
      const next = await reconnect(hub, link);
      next.subscribed('c', { ep: 'a', off: 9, rec: false, why: 'trimmed' });
      next.msg('c', 'a', 9);
      next.msg('c', 'a', 10);
      assert.deepEqual(seen.told().at(-1), { position: at('a', 9), recovered: false, reason: 'trimmed' });
      assert.deepEqual(seen.data(), [1, 10]);
      assert.deepEqual(c.lastPosition('c'), at('a', 10));
    });

    it('into a new epoch answered with offset 0, every publication of that epoch is delivered', async () => {
      const { hub, link, seen } = await live(at('a', 4));
      link.msg('c', 'a', 5);
      const next = await reconnect(hub, link);
      next.subscribed('c', { ep: 'b', off: 0, rec: false, why: 'epoch_changed' });
      next.msg('c', 'b', 1, 'b1');
      next.msg('c', 'b', 2, 'b2');
      assert.deepEqual(seen.data(), [5, 'b1', 'b2']);
    });

    it('publications of the previous epoch held before the reply are dropped', async () => {
      const { hub, link, seen } = await live();
      link.msg('c', 'a', 1);
      const next = await reconnect(hub, link);
      next.msg('c', 'a', 2);
      next.subscribed('c', { ep: 'b', off: 0, rec: false, why: 'epoch_changed' });
      next.msg('c', 'b', 1, 'b1');
      assert.deepEqual(seen.data(), [1, 'b1']);
    });

    it('publications replayed again are dropped', async () => {
      const { hub, link, seen } = await live();
      link.msg('c', 'a', 1);
      link.msg('c', 'a', 2);
      const next = await reconnect(hub, link);
      next.subscribed('c', { ep: 'a', off: 3, rec: true });
      for (const off of [1, 2, 3]) next.msg('c', 'a', off);
      assert.deepEqual(seen.data(), [1, 2, 3]);
    });
  });

  describe('a second handle', () => {
    it('without since learns the live position, and gets only what comes after it', async () => {
      const { link, client: c } = await live();
      link.msg('c', 'a', 1);
      const late = record(c.subscribe('c'));
      await tick();
      link.msg('c', 'a', 2);
      assert.deepEqual(late.events, [
        ['subscribed', { position: at('a', 1) }],
        ['publication', at('a', 2), 2],
      ]);
      assert.deepEqual(link.subscriptions(), [['sub', 'c']]);
    });

    it('resuming at the live position is told it recovered, with no wire traffic', async () => {
      const { link, client: c } = await live();
      link.msg('c', 'a', 1);
      const caughtUp = record(c.subscribe('c', { since: at('a', 1) }));
      await tick();
      assert.deepEqual(caughtUp.told(), [{ position: at('a', 1), recovered: true }]);
      assert.deepEqual(link.subscriptions(), [['sub', 'c']]);
    });

    it('resuming behind the live position gets what it missed, replayed from its since', async () => {
      const { link, seen, client: c } = await live();
      for (const off of [1, 2, 3]) link.msg('c', 'a', off);
      const behind = record(c.subscribe('c', { since: at('a', 1) }));
      await tick();
      assert.deepEqual(link.subscriptions().slice(1), [
        ['unsub', 'c'],
        ['sub', 'c', at('a', 1)],
      ]);
      link.msg('c', 'a', 2);
      link.subscribed('c', { ep: 'a', off: 3, rec: true });
      link.msg('c', 'a', 3);
      link.msg('c', 'a', 4);
      assert.deepEqual(behind.told(), [{ position: at('a', 3), recovered: true }]);
      assert.deepEqual(behind.data(), [2, 3, 4]);
      assert.deepEqual(seen.data(), [1, 2, 3, 4]);
      assert.equal(seen.told().length, 1);
    });

    it('resuming further back than the hub can replay is alone in being told it was not recovered', async () => {
      const { link, seen, client: c } = await live();
      link.msg('c', 'a', 1);
      const behind = record(c.subscribe('c', { since: at('old', 7) }));
      await tick();
      link.subscribed('c', { ep: 'a', off: 1, rec: false, why: 'epoch_changed' });
      link.msg('c', 'a', 2);
      assert.deepEqual(behind.told(), [{ position: at('a', 1), recovered: false, reason: 'epoch_changed' }]);
      assert.deepEqual(behind.data(), [2]);
      assert.equal(seen.told().length, 1);
      assert.deepEqual(seen.data(), [1, 2]);
    });

    it('when the reply leaves the first handle behind, one more round resumes it from its own position', async () => {
      const { link, seen, client: c } = await live();
      link.msg('c', 'a', 1);
      c.subscribe('c', { since: at('a', 0) });
      await tick();
      // Published while the channel was between unsub and sub: the hub could not replay from 0.
      link.subscribed('c', { ep: 'a', off: 3, rec: false, why: 'too_many_missed' });
      assert.deepEqual(link.subscriptions().slice(-2), [
        ['unsub', 'c'],
        ['sub', 'c', at('a', 1)],
      ]);
      link.subscribed('c', { ep: 'a', off: 3, rec: true });
      link.msg('c', 'a', 2);
      link.msg('c', 'a', 3);
      assert.deepEqual(seen.data(), [1, 2, 3]);
      assert.deepEqual(seen.told().at(-1), { position: at('a', 3), recovered: true });
    });
  });

  it('ignores a lost push that comes before its sub reply: the reply decides', async () => {
    const { client: c, hub } = client();
    const seen = record(c.subscribe('c', { since: at('a', 1) }));
    const link = await hub.connected();
    link.hub({ t: 'lost', ch: 'c', ep: 'a', off: 5, why: 'trimmed' });
    link.subscribed('c', { ep: 'a', off: 2, rec: true });
    link.msg('c', 'a', 2);
    assert.deepEqual(seen.told(), [{ position: at('a', 2), recovered: true }]);
    assert.deepEqual(seen.data(), [2]);
  });
});
