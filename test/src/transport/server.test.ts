import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SUBPROTOCOLS } from '@switchboard/protocol';
import WebSocket from 'ws';
import { startHub, type TestHub } from '../../support/hub.js';
import { RawClient } from '../../support/raw-client.js';
import { upgradeRefusal } from '../../support/upgrade.js';
import { waitFor } from '../../support/wait.js';

describe('transport', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startHub({ limits: { maxFrameBytes: 1024 } });
  });
  after(() => hub.stop());

  it('refuses a WebSocket with an unknown subprotocol with HTTP 400 and a reason', async () => {
    const { status, body } = await upgradeRefusal(hub.url, {}, ['chat']);
    assert.equal(status, 400);
    assert.match(body, /switchboard\.v2\.msgpack/);
  });

  it('refuses a WebSocket without a subprotocol with HTTP 400', async () => {
    const { status } = await upgradeRefusal(hub.url, {}, []);
    assert.equal(status, 400);
  });

  it('accepts the first of our subprotocols the client offers', async () => {
    const ws = new WebSocket(hub.url, ['chat', SUBPROTOCOLS.json, SUBPROTOCOLS.msgpack]);
    await new Promise((resolve) => ws.once('open', resolve));
    assert.equal(ws.protocol, SUBPROTOCOLS.json);
    ws.close();
  });

  it('speaks the same protocol in JSON text frames', async () => {
    const client = await RawClient.connected(hub.url, 'json');
    await client.ok({ t: 'sub', ch: 'j' });
    await client.ok({ t: 'pub', ch: 'j', d: { text: 'é' } });
    await waitFor(() => client.publications('j').length === 1, 'the JSON push');
    assert.deepEqual(client.publications('j')[0]?.d, { text: 'é' });
    client.close();
  });

  it('closes a socket that sends a frame over the size limit with 1009', async () => {
    const client = await RawClient.connected(hub.url);
    client.send({ t: 'pub', id: 5, ch: 'big', d: 'x'.repeat(1500) });
    const { code } = await client.waitClosed();
    assert.equal(code, 1009);
  });

  it('answers unknown HTTP routes with 404', async () => {
    const response = await fetch(`${hub.http}/nope`);
    assert.equal(response.status, 404);
  });
});
