import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PublicationPush } from '@switchboard/protocol';
import { Channel, isNew } from '../../client-sdk/src/channels.js';
import { type Publication, type SubscribedEvent, Subscription } from '../../client-sdk/src/index.js';

function handleOf(channel: Channel) {
  const sub = new Subscription(channel.name, () => {});
  channel.handles.add(sub);
  const events: Array<['subscribed', SubscribedEvent] | ['publication', Publication]> = [];
  sub.on('subscribed', (event) => events.push(['subscribed', event]));
  sub.on('publication', (publication) => events.push(['publication', publication]));
  return { sub, events, data: () => events.flatMap(([kind, e]) => (kind === 'publication' ? [e.data] : [])) };
}

const push = (ep: string, off: number, d: unknown = off): PublicationPush => ({ t: 'msg', ch: 'c', ep, off, d });

describe('isNew', () => {
  it('is true for anything when nothing was seen', () => {
    assert.equal(isNew({ ep: 'a', off: 0 }, undefined), true);
  });
  it('is true for a later offset of the same epoch only', () => {
    assert.equal(isNew({ ep: 'a', off: 5 }, { ep: 'a', off: 4 }), true);
    assert.equal(isNew({ ep: 'a', off: 4 }, { ep: 'a', off: 4 }), false);
    assert.equal(isNew({ ep: 'a', off: 3 }, { ep: 'a', off: 4 }), false);
  });
  it('is true for any offset of another epoch', () => {
    assert.equal(isNew({ ep: 'b', off: 1 }, { ep: 'a', off: 40 }), true);
  });
});

describe('Channel', () => {
  it('delivers pushes to its handles once, dropping duplicates and older offsets', () => {
    const channel = new Channel('c', undefined);
    const handle = handleOf(channel);
    channel.subscribing(1);
    channel.subscribed({ ep: 'a', off: 0 });
    for (const p of [push('a', 1), push('a', 1), push('a', 2), push('a', 1), push('a', 3)]) channel.push(p);
    assert.deepEqual(handle.data(), [1, 2, 3]);
    assert.deepEqual(channel.last, { ep: 'a', off: 3 });
  });

  it('accepts a new epoch and records it', () => {
    const channel = new Channel('c', undefined);
    const handle = handleOf(channel);
    channel.subscribing(1);
    channel.subscribed({ ep: 'a', off: 10 });
    channel.push(push('b', 1));
    channel.push(push('b', 1));
    assert.deepEqual(handle.data(), [1]);
    assert.deepEqual(channel.last, { ep: 'b', off: 1 });
  });

  it('holds pushes until the sub reply, then delivers the new ones after subscribed, in offset order', () => {
    const channel = new Channel('c', { ep: 'a', off: 3 });
    const handle = handleOf(channel);
    channel.subscribing(1);
    for (const p of [push('a', 6), push('a', 4), push('a', 3), push('a', 5)]) channel.push(p);
    assert.deepEqual(handle.events, []);
    channel.subscribed({ ep: 'a', off: 6, rec: true });
    assert.deepEqual(handle.events[0], ['subscribed', { position: { ep: 'a', off: 6 }, recovered: true }]);
    assert.deepEqual(handle.data(), [4, 5, 6]);
  });

  it('starts from the reply position when nothing was recovered', () => {
    const channel = new Channel('c', { ep: 'old', off: 3 });
    const handle = handleOf(channel);
    channel.subscribing(1);
    channel.push(push('new', 2));
    channel.subscribed({ ep: 'new', off: 2, rec: false, why: 'epoch_changed' });
    channel.push(push('new', 3));
    assert.deepEqual(handle.events, [
      ['subscribed', { position: { ep: 'new', off: 2 }, recovered: false, reason: 'epoch_changed' }],
      ['publication', { channel: 'c', position: { ep: 'new', off: 3 }, data: 3 }],
    ]);
  });

  it('passes live-only pushes through without touching the last position', () => {
    const channel = new Channel('c', undefined);
    const handle = handleOf(channel);
    channel.subscribing(1);
    channel.subscribed({ ep: 'a', off: 1 });
    channel.push({ t: 'msg', ch: 'c', d: 'raw' });
    channel.push({ t: 'msg', ch: 'c', d: 'raw' });
    assert.deepEqual(handle.events.slice(1), [
      ['publication', { channel: 'c', data: 'raw' }],
      ['publication', { channel: 'c', data: 'raw' }],
    ]);
    assert.deepEqual(channel.last, { ep: 'a', off: 1 });
  });

  it('ignores pushes while it has no wire subscription', () => {
    const channel = new Channel('c', undefined);
    const handle = handleOf(channel);
    channel.push(push('a', 1));
    channel.subscribing(1);
    channel.disconnected();
    channel.push(push('a', 2));
    assert.deepEqual(handle.events, []);
    assert.equal(handle.sub.state, 'subscribing');
  });
});
