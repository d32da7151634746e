import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { run } from '../support/cli.js';
import { type HubProcess, spawnHub } from '../support/hub-process.js';
import { SseTestClient } from '../support/sse-client.js';
import { waitFor } from '../support/wait.js';

describe('the README’s curl line: GET /sse prints what `switchboard pub` publishes', () => {
  let hub: HubProcess;
  before(async () => {
    hub = await spawnHub({});
  });
  after(() => hub.process.stop());

  it('streams each publication of the channel as one `data:` event, as it is published', async () => {
    // What `curl -N 'localhost:8080/sse?ch=news'` reads, read here as it comes.
    const stream = await SseTestClient.connected(`${hub.http}/sse?ch=news`);
    await waitFor(() => stream.reply(2)?.t === 'ok', 'the subscription');
    for (const n of [1, 2]) {
      const published = await run(['pub', 'news', JSON.stringify({ hello: n })], { PORT: String(hub.port) });
      assert.equal(published.code, 0, published.stderr);
      await waitFor(() => stream.publications('news').length === n, `publication ${n} before the next is published`);
    }
    const lines = stream.events.filter((event) => event.event === 'message').map((event) => event.data);
    assert.deepEqual(lines.slice(-2), ['["news",1,{"hello":1}]', '["news",2,{"hello":2}]']);
    stream.close();
  });
});
