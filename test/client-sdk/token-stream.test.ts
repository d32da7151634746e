import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Position, Publication } from '../../client-sdk/src/index.js';
import { startHub, type TestHub } from '../support/hub.js';
import { waitFor } from '../support/wait.js';
import { hubClients } from './helpers.js';

const TOKENS = 20_000;

/** The i-th token of an answer: 10–30 bytes, as a model's tokens come with their metadata. */
function token(i: number): { i: number; t: string } {
  return { i, t: ` word${i}`.padEnd(5 + (i % 20), '.') };
}

describe('LLM token streams: a namespace in append mode', { timeout: 180_000 }, () => {
  let hub: TestHub;
  const { client, closeAll } = hubClients(() => hub.url);
  let epoch = '';

  before(async () => {
    // A service publishing 20,000 tokens over one connection goes past a browser's message rate.
    hub = await startHub({ namespaces: { llm: { mode: 'append' } }, limits: { messagesPerSecond: 1_000_000 } });
    const service = client();
    // In batches of 1,000 in flight: the hub acknowledges each in order of its offset.
    for (let start = 0; start < TOKENS; start += 1_000) {
      const batch = Array.from({ length: 1_000 }, (_, k) => service.publish('llm:answer-1', token(start + k + 1)));
      const results = await Promise.all(batch);
      epoch = results[0]?.ep ?? epoch;
    }
  });

  after(async () => {
    closeAll();
    await hub.stop();
  });

  /** Subscribes `llm:answer-1` as a reloaded page would, and collects until `until` tokens arrived. */
  async function read(options: { since?: Position; fromStart?: boolean }, until: number) {
    const got: Publication[] = [];
    const reader = client();
    const subscription = reader.subscribe('llm:answer-1', options);
    subscription.on('publication', (publication) => got.push(publication));
    const subscribed = new Promise<{ recovered?: boolean }>((resolve) => subscription.on('subscribed', resolve));
    await waitFor(() => got.length >= until, `${until} tokens`, 60_000);
    reader.close();
    return { got, subscribed: await subscribed };
  }

  it('property: a 20,000-token stream resumed at any point replays exactly the rest, in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: TOKENS }), async (at) => {
        const rest = TOKENS - at;
        if (rest === 0) return;
        const { got, subscribed } = await read({ since: { ep: epoch, off: at } }, rest);
        assert.equal(subscribed.recovered, true);
        assert.equal(got.length, rest);
        got.forEach((publication, k) => {
          assert.equal(publication.position?.off, at + k + 1);
          assert.deepEqual(publication.data, token(at + k + 1));
        });
      }),
      { numRuns: 8, examples: [[1_500], [0]] },
    );
  });

  it('read from the start by the stream id alone: every token, then live ones with no gap', async () => {
    const got: Publication[] = [];
    const reader = client();
    const subscription = reader.subscribe('llm:answer-1', { fromStart: true });
    subscription.on('publication', (publication) => got.push(publication));
    await waitFor(() => got.length >= TOKENS, 'the whole answer', 60_000);
    const service = client();
    for (let i = TOKENS + 1; i <= TOKENS + 50; i++) await service.publish('llm:answer-1', token(i));
    await waitFor(() => got.length >= TOKENS + 50, 'the live tokens');
    assert.deepEqual(
      got.map((publication) => publication.position?.off),
      Array.from({ length: TOKENS + 50 }, (_, k) => k + 1),
    );
    assert.deepEqual(got.at(-1)?.data, token(TOKENS + 50));
  });
});
