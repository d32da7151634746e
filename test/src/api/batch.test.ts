import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHub, type TestHub } from '../../support/hub.js';
import { RawClient } from '../../support/raw-client.js';
import { waitFor } from '../../support/wait.js';

type Result = { epoch: string; offset: number } | { error: string };

describe('POST /api/batch', () => {
  let hub: TestHub;
  const post = (body: unknown) =>
    fetch(`${hub.http}/api/batch`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
  before(async () => {
    hub = await startHub();
  });
  after(() => hub.stop());

  it('publishes every item in order and answers one position per item, in the order of the request', async () => {
    const client = await RawClient.connected(hub.url);
    await client.ok({ t: 'sub', ch: 'a' });
    await client.ok({ t: 'sub', ch: 'b' });
    const publications = Array.from({ length: 300 }, (_, i) => ({ channel: i % 3 === 0 ? 'b' : 'a', data: i }));
    const response = await post({ publications });
    assert.equal(response.status, 200);
    const { results } = (await response.json()) as { results: Result[] };
    assert.equal(results.length, 300);
    const offsets = (channel: string) =>
      results.filter((_, i) => publications[i]?.channel === channel).map((r) => ('offset' in r ? r.offset : -1));
    assert.deepEqual(
      offsets('a'),
      Array.from({ length: 200 }, (_, n) => n + 1),
    );
    assert.deepEqual(
      offsets('b'),
      Array.from({ length: 100 }, (_, n) => n + 1),
    );
    await waitFor(() => client.publications('a').length === 200 && client.publications('b').length === 100, 'pushes');
    assert.deepEqual(
      client.publications('a').map((p) => p.d),
      publications.filter((p) => p.channel === 'a').map((p) => p.data),
    );
    client.close();
  });

  it('answers a bad item with 400 naming its index and field, and publishes none of the request', async () => {
    const response = await post({
      publications: [
        { channel: 'ok', data: 1 },
        { channel: 'a b', data: 2 },
      ],
    });
    assert.equal(response.status, 400);
    assert.match(
      ((await response.json()) as { error: string }).error,
      /^publications\.1\.channel: invalid channel name/,
    );
    const read = await hub.node.broker.read('ok', { after: 0, limit: 0 });
    assert.equal(read.top.off, 0, 'nothing was published');
  });

  it('refuses an empty batch and one over 1,000 items with 400', async () => {
    assert.equal((await post({ publications: [] })).status, 400);
    const many = Array.from({ length: 1_001 }, () => ({ channel: 'x', data: 0 }));
    const response = await post({ publications: many });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { error: string }).error, /^publications: /);
  });
});
