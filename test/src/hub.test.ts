import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeServerFrame, ErrorCode, encodeData, jsonCodec, msgpackCodec } from '@switchboard/protocol';
import { HubError } from '../../src/errors.js';
import { Hub, topicOf } from '../../src/hub.js';
import { RecordingBroker, RecordingPublisher } from './support.js';

const history = { size: 10, ttlMs: 60_000 };

async function setup(maxChannels = 100) {
  const broker = new RecordingBroker();
  const hub = new Hub(broker, maxChannels);
  const publisher = new RecordingPublisher();
  hub.attach(publisher);
  await broker.start(hub);
  return { broker, hub, publisher };
}

describe('hub', () => {
  it('subscribes at the broker on the first local subscriber and unsubscribes after the last', async () => {
    const { broker, hub } = await setup();
    await hub.add('news', 'msgpack');
    await hub.add('news', 'json');
    hub.remove('news', 'msgpack');
    await hub.settled();
    assert.deepEqual(broker.calls, [['subscribe', ['news']]]);
    hub.remove('news', 'json');
    await hub.settled();
    assert.deepEqual(broker.calls.at(-1), ['unsubscribe', ['news']]);
    assert.equal(hub.channelCount, 0);
  });

  it('encodes each publication once per wire format in use and hands it to native fan-out', async () => {
    const { broker, hub, publisher } = await setup();
    await hub.add('news', 'msgpack');
    await hub.add('news', 'msgpack');
    await broker.publish('news', encodeData({ n: 1 }), history);
    assert.equal(
      publisher.published.length,
      0,
      'queued for the next turn of the event loop, not published inside the caller',
    );
    hub.flush();
    assert.equal(publisher.published.length, 1, 'one encoding for two msgpack subscribers');
    await hub.add('news', 'json');
    await broker.publish('news', encodeData({ n: 2 }), history);
    await new Promise((resolve) => setImmediate(resolve));
    const latest = publisher.published.slice(1);
    assert.deepEqual(
      latest.map((p) => [p.topic, p.isBinary]),
      [
        [topicOf('msgpack', 'news'), true],
        [topicOf('json', 'news'), false],
      ],
    );
    const [binary, text] = latest;
    assert.ok(binary && text);
    const expected = { t: 'msg', ch: 'news', ep: (await broker.position('news')).ep, off: 2, d: { n: 2 } };
    assert.deepEqual(decodeServerFrame(msgpackCodec, binary.message), { kind: 'frame', frame: expected });
    assert.deepEqual(decodeServerFrame(jsonCodec, text.message), { kind: 'frame', frame: expected });
  });

  it('drops publications of channels without local subscribers', async () => {
    const { hub, publisher } = await setup();
    hub.onPublication({ channel: 'nobody', position: { ep: 'e', off: 1 }, data: encodeData(1) });
    assert.equal(publisher.published.length, 0);
  });

  it('refuses a new channel beyond the per-node limit with error 106', async () => {
    const { hub } = await setup(1);
    await hub.add('a', 'msgpack');
    await assert.rejects(
      hub.add('b', 'msgpack'),
      (error: unknown) => error instanceof HubError && error.code === ErrorCode.LIMIT_EXCEEDED,
    );
    await hub.add('a', 'json');
  });

  it('ignores a remove without a matching add', async () => {
    const { broker, hub } = await setup();
    hub.remove('never', 'msgpack');
    await hub.settled();
    assert.deepEqual(broker.calls, []);
  });
});
