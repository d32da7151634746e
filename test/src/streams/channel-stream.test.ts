import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeData } from '@switchboard/protocol';
import { join, streamsFixture } from './fixture.js';

describe('a channel stream: joins', () => {
  it('without since, answers where the channel stands here; what follows arrives once, through the topic', async () => {
    const { streams, member, publish, settle } = await streamsFixture();
    await publish('c', 1);
    await publish('c', 2);
    const a = member();
    const reply = await join(streams, 'c', a);
    assert.equal(reply?.off, 2);
    await publish('c', 3);
    await settle();
    assert.deepEqual(a.offsets('c'), [3]);
  });

  it('with since, replays exactly what was missed, then continues live, with publications racing the join', async () => {
    const { streams, member, publish, settle } = await streamsFixture();
    const watcher = member();
    await join(streams, 'c', watcher);
    const first = await publish('c', 1);
    for (let i = 2; i <= 5; i++) await publish('c', i);
    const resumer = member('json');
    const racing = Promise.all([6, 7, 8].map((i) => publish('c', i)));
    const reply = await join(streams, 'c', resumer, { ep: first.ep, off: 2 });
    await racing;
    await publish('c', 9);
    await settle();
    assert.equal(reply?.rec, true);
    assert.deepEqual(resumer.offsets('c'), [3, 4, 5, 6, 7, 8, 9]);
    assert.equal(resumer.frames[0]?.t, 'ok', 'the reply comes before the replay, so the client knows its epoch');
    assert.deepEqual(watcher.offsets('c'), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('with a since history no longer holds, says not recovered and why, and continues where the channel stands', async () => {
    const { streams, member, publish, settle } = await streamsFixture({ maxRecovery: 3 });
    const first = await publish('c', 1);
    for (let i = 2; i <= 9; i++) await publish('c', i);
    const late = member();
    const reply = await join(streams, 'c', late, { ep: first.ep, off: 1 });
    await settle();
    assert.deepEqual(reply, { ep: first.ep, off: 9, rec: false, why: 'too_many_missed' });
    assert.deepEqual(late.offsets('c'), []);
  });

  it('across an epoch change, continues the new epoch from offset 0 and replays it, nothing skipped', async () => {
    const { broker, streams, member, publish, settle } = await streamsFixture();
    const old = await publish('c', 'old');
    broker.forget('c');
    for (let i = 1; i <= 3; i++) await publish('c', i);
    const back = member();
    const reply = await join(streams, 'c', back, old);
    await settle();
    assert.equal(reply?.rec, false);
    assert.equal(reply?.why, 'epoch_changed');
    assert.equal(reply?.off, 0);
    assert.notEqual(reply?.ep, old.ep);
    assert.deepEqual(back.offsets('c'), [1, 2, 3]);
  });

  it('gives nothing to a member that left while it joined, and keeps no count for it', async () => {
    const { streams, member, publish } = await streamsFixture();
    const first = await publish('c', 1);
    const gone = member();
    const joining = join(streams, 'c', gone, { ep: first.ep, off: 0 });
    streams.leave('c', gone);
    assert.equal(await joining, undefined);
    assert.equal(gone.topics.size, 0, 'it never entered the topic');
    assert.equal(streams.channelCount, 0);
  });
});

describe('a channel stream: gaps in what reaches this hub', () => {
  it('repairs lost publications from history, once for all members, in order, before the next one', async () => {
    const { broker, streams, member, publish, settle, observed } = await streamsFixture();
    const [a, b] = [member(), member('json')];
    await join(streams, 'c', a);
    await join(streams, 'c', b);
    await publish('c', 1);
    broker.dropping = true;
    await publish('c', 2);
    await publish('c', 3);
    broker.dropping = false;
    await publish('c', 4);
    await settle();
    assert.deepEqual(a.offsets('c'), [1, 2, 3, 4]);
    assert.deepEqual(b.offsets('c'), [1, 2, 3, 4]);
    assert.equal(observed.historyReads('repair'), 1, 'one history read for the channel, not one per member');
    assert.deepEqual(observed.repairs, ['repaired']);
  });

  it('tells every member once when history cannot supply the gap, then continues', async () => {
    const { broker, streams, member, publish, settle } = await streamsFixture({ maxRecovery: 2 });
    const a = member();
    await join(streams, 'c', a);
    await publish('c', 1);
    broker.dropping = true;
    for (let i = 2; i <= 6; i++) await publish('c', i);
    broker.dropping = false;
    const seventh = await publish('c', 7);
    await publish('c', 8);
    await settle();
    const lost = a.frames.filter((frame) => frame.t === 'lost');
    assert.deepEqual(lost, [{ t: 'lost', ch: 'c', ep: seventh.ep, off: 7, why: 'too_many_missed' }]);
    assert.deepEqual(a.offsets('c'), [1, 8]);
  });

  it('after an epoch change, tells members once, then delivers the new epoch from its first publication', async () => {
    const { broker, streams, member, publish, settle } = await streamsFixture();
    const a = member();
    await join(streams, 'c', a);
    await publish('c', 'old');
    broker.forget('c');
    broker.dropping = true;
    const first = await publish('c', 'new 1');
    broker.dropping = false;
    await publish('c', 'new 2');
    await settle();
    const after = a.frames.slice(2);
    assert.deepEqual(
      after.map((frame) => (frame.t === 'msg' ? [frame.t, frame.off] : frame)),
      [{ t: 'lost', ch: 'c', ep: first.ep, off: 0, why: 'epoch_changed' }, ['msg', 1], ['msg', 2]],
    );
  });

  it('after delivery was interrupted, a quiet channel learns of a lost epoch without any publication', async () => {
    const { broker, streams, member, publish, settle, observed } = await streamsFixture();
    const members = ['q1', 'q2', 'q3'].map((channel) => [channel, member()] as const);
    for (const [channel, m] of members) await join(streams, channel, m);
    for (const [channel] of members) await publish(channel, 'before');
    await settle();
    streams.onDeliveryInterrupted();
    for (const [channel] of members) broker.forget(channel);
    streams.onDeliveryResumed();
    await settle();
    for (const [channel, m] of members) {
      assert.deepEqual(
        m.frames.filter((frame) => frame.t === 'lost').map((frame) => frame.t === 'lost' && [frame.ch, frame.why]),
        [[channel, 'epoch_changed']],
      );
    }
    assert.equal(observed.reads.filter(([purpose]) => purpose === 'repair').length <= members.length * 2, true);
    assert.equal(observed.historyReads('repair'), members.length, 'one history read per channel');
  });

  it('after delivery was interrupted, repairs what was published meanwhile on a channel that then went quiet', async () => {
    const { broker, streams, member, publish, settle } = await streamsFixture();
    const a = member();
    await join(streams, 'c', a);
    await publish('c', 1);
    streams.onDeliveryInterrupted();
    broker.dropping = true;
    await publish('c', 2);
    broker.dropping = false;
    streams.onDeliveryResumed();
    await settle();
    assert.deepEqual(a.offsets('c'), [1, 2]);
  });

  it('passes live-only publications (no position) through as they come', async () => {
    const { streams, member, settle } = await streamsFixture();
    const a = member();
    await join(streams, 'c', a);
    streams.onPublication({ channel: 'c', data: encodeData('raw') });
    await settle();
    assert.deepEqual(a.offsets('c'), [undefined]);
  });

  it('drops a publication it already delivered', async () => {
    const { streams, member, publish, settle } = await streamsFixture();
    const a = member();
    await join(streams, 'c', a);
    const one = await publish('c', 1);
    streams.onPublication({ channel: 'c', position: one, data: encodeData(1) });
    await settle();
    assert.deepEqual(a.offsets('c'), [1]);
  });
});

describe('a channel stream: position checks', () => {
  it('repair a publication that never arrived once a second check still finds the hub behind', async () => {
    const { broker, streams, member, publish, settle } = await streamsFixture();
    const a = member();
    await join(streams, 'c', a);
    await publish('c', 1);
    broker.dropping = true;
    await publish('c', 2);
    broker.dropping = false;
    const stream = (streams as unknown as { streams: Map<string, { check(): Promise<void> }> }).streams.get('c');
    await stream?.check();
    await settle();
    assert.deepEqual(a.offsets('c'), [1], 'the first check gives it time to arrive');
    await stream?.check();
    await settle();
    assert.deepEqual(a.offsets('c'), [1, 2]);
  });
});
