import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHub, type TestHub } from '../support/hub.js';
import { RawClient } from '../support/raw-client.js';
import { waitFor } from '../support/wait.js';

const CHANNELS = 100;
const channel = (i: number) => `mux:${i}`;

describe('one socket, many channels', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startHub();
  });
  after(() => hub.stop());

  it('delivers each of 100 channels multiplexed on one socket to exactly its subscribers', async () => {
    // `all` holds every channel on one socket; `odd` holds the odd ones on one JSON socket.
    const all = await RawClient.connected(hub.url);
    const odd = await RawClient.connected(hub.url, 'json');
    const publisher = await RawClient.connected(hub.url);
    await Promise.all(Array.from({ length: CHANNELS }, (_, i) => all.ok({ t: 'sub', ch: channel(i) })));
    await Promise.all(
      Array.from({ length: CHANNELS }, (_, i) => i)
        .filter((i) => i % 2 === 1)
        .map((i) => odd.ok({ t: 'sub', ch: channel(i) })),
    );
    assert.equal(hub.node.sessions.size, 3);

    for (let round = 0; round < 3; round++) {
      await Promise.all(
        Array.from({ length: CHANNELS }, (_, i) => publisher.ok({ t: 'pub', ch: channel(i), d: { i, round } })),
      );
    }
    await waitFor(() => all.publications().length === 3 * CHANNELS, 'every publication on the all-channels socket');
    await waitFor(() => odd.publications().length === (3 * CHANNELS) / 2, 'the odd channels on the JSON socket');

    for (let i = 0; i < CHANNELS; i++) {
      const got = all.publications(channel(i));
      assert.deepEqual(
        got.map((p) => [p.off, p.d]),
        [0, 1, 2].map((round) => [round + 1, { i, round }]),
        `channel ${channel(i)} in order, once each`,
      );
      assert.equal(odd.publications(channel(i)).length, i % 2 === 1 ? 3 : 0);
    }
    assert.equal(publisher.publications().length, 0, 'the publisher subscribed to nothing');
    for (const client of [all, odd, publisher]) client.close();
  });
});
