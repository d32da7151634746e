import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Interest } from '../../../src/streams/interest.js';
import { collector, RecordingBroker } from '../support.js';

async function setup() {
  const broker = new RecordingBroker();
  await broker.start(collector([]));
  const wanted = new Set<string>();
  const interest = new Interest(broker, (channel) => wanted.has(channel));
  return { broker, wanted, interest };
}

describe('interest', () => {
  it('batches the channels wanted in one turn into one broker call', async () => {
    const { broker, wanted, interest } = await setup();
    const waits = ['a', 'b', 'c'].map((channel) => {
      wanted.add(channel);
      return interest.want(channel);
    });
    await Promise.all(waits);
    assert.deepEqual(broker.calls, [['subscribe', ['a', 'b', 'c']]]);
  });

  it('answers a want for a channel already subscribed without a broker call', async () => {
    const { broker, wanted, interest } = await setup();
    wanted.add('a');
    await interest.want('a');
    await interest.want('a');
    assert.equal(broker.calls.length, 1);
  });

  it('ends subscribed when a channel is released and wanted again while a flush runs', async () => {
    const { broker, wanted, interest } = await setup();
    wanted.add('a');
    await interest.want('a');
    wanted.delete('a');
    interest.release('a');
    await new Promise((resolve) => setImmediate(resolve));
    wanted.add('a');
    await interest.want('a');
    await interest.settled();
    assert.deepEqual(broker.calls, [
      ['subscribe', ['a']],
      ['unsubscribe', ['a']],
      ['subscribe', ['a']],
    ]);
  });

  it('cancels out a release and a want within the same turn', async () => {
    const { broker, wanted, interest } = await setup();
    wanted.add('a');
    await interest.want('a');
    wanted.delete('a');
    interest.release('a');
    wanted.add('a');
    await interest.want('a');
    assert.deepEqual(broker.calls, [['subscribe', ['a']]]);
  });

  it('rejects the waiters when the broker refuses, and retries on the next want', async () => {
    const { broker, wanted, interest } = await setup();
    broker.failSubscribe = true;
    wanted.add('a');
    await assert.rejects(interest.want('a'), /broker down/);
    broker.failSubscribe = false;
    await interest.want('a');
    assert.equal(broker.calls.filter(([op]) => op === 'subscribe').length, 2);
  });
});
