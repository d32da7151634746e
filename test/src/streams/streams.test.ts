import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeServerFrame, ErrorCode, encodeData, jsonCodec, msgpackCodec } from '@switchboard/protocol';
import { HubError } from '../../../src/errors.js';
import { topicOf } from '../../../src/streams/fanout.js';
import { Streams } from '../../../src/streams/streams.js';
import { RecordingBroker, RecordingPublisher, TestMember, TopicBus } from '../support.js';
import { history, join, Observed, streamsFixture } from './fixture.js';

describe('streams: one per channel with local members', () => {
  it('subscribe at the broker with the first member and release it after the last', async () => {
    const { broker, streams, member } = await streamsFixture();
    const [a, b] = [member('msgpack'), member('json')];
    await join(streams, 'news', a);
    await join(streams, 'news', b);
    streams.leave('news', a);
    await streams.settled();
    assert.deepEqual(broker.calls, [['subscribe', ['news']]]);
    streams.leave('news', b);
    await streams.settled();
    assert.deepEqual(broker.calls.at(-1), ['unsubscribe', ['news']]);
    assert.equal(streams.channelCount, 0);
  });

  it('encode each publication once per wire format in use, handed to native fan-out on the next turn', async () => {
    const broker = new RecordingBroker();
    const streams = new Streams(broker, { maxChannels: 10, maxRecovery: 100, positionCheckMs: 0 }, new Observed());
    const publisher = new RecordingPublisher();
    streams.attach(publisher);
    await broker.start(streams);
    const bus = new TopicBus();
    await join(streams, 'news', new TestMember(bus));
    await join(streams, 'news', new TestMember(bus));
    await broker.publish('news', encodeData({ n: 1 }), history);
    assert.equal(publisher.published.length, 0, 'queued, not published inside the caller');
    streams.flush();
    assert.equal(publisher.published.length, 1, 'one encoding for two msgpack members');
    await join(streams, 'news', new TestMember(bus, 'json'));
    const { ep } = await broker.publish('news', encodeData({ n: 2 }), history);
    await new Promise((resolve) => setImmediate(resolve));
    const latest = publisher.published.slice(1);
    assert.deepEqual(
      latest.map((p) => [p.topic, p.isBinary]),
      [
        [topicOf('msgpack', 'news'), true],
        [topicOf('json', 'news'), false],
      ],
    );
    assert.ok(ep);
    const expected = { t: 'msg', ch: 'news', off: 2, d: { n: 2 } };
    assert.deepEqual(decodeServerFrame(msgpackCodec, latest[0]?.message ?? new Uint8Array()), {
      kind: 'frame',
      frame: expected,
    });
    assert.deepEqual(decodeServerFrame(jsonCodec, latest[1]?.message ?? new Uint8Array()), {
      kind: 'frame',
      frame: expected,
    });
  });

  it('drop publications of channels without local members', async () => {
    const { streams, observed } = await streamsFixture();
    streams.onPublication({ channel: 'nobody', position: { ep: 'e', off: 1 }, data: encodeData(1) });
    assert.equal(observed.deliveries, 0);
  });

  it('refuse a new channel beyond the per-node limit with error 106, and still admit members of existing ones', async () => {
    const { streams, member } = await streamsFixture({ maxChannels: 1 });
    await join(streams, 'a', member());
    await assert.rejects(
      join(streams, 'b', member()),
      (error: unknown) => error instanceof HubError && error.code === ErrorCode.LIMIT_EXCEEDED,
    );
    await join(streams, 'a', member('json'));
  });

  it('answer a join with no broker with a temporary error, and forget the channel', async () => {
    const { broker, streams, member } = await streamsFixture();
    broker.failSubscribe = true;
    await assert.rejects(
      join(streams, 'down', member()),
      (error: unknown) => error instanceof HubError && error.temporary,
    );
    assert.equal(streams.channelCount, 0);
  });

  it('list their channels with members and publications fanned out, for the admin view', async () => {
    const { streams, member, publish, settle } = await streamsFixture();
    await join(streams, 'busy', member());
    await join(streams, 'busy', member());
    await join(streams, 'calm', member());
    await publish('busy', 1);
    await publish('busy', 2);
    await settle();
    assert.deepEqual(
      [...streams.channels()],
      [
        ['busy', 2, 2],
        ['calm', 1, 0],
      ],
    );
  });
});
