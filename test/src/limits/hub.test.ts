import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, SUBPROTOCOLS } from '@switchboard/protocol';
import WebSocket from 'ws';
import { startHub, type TestHub } from '../../support/hub.js';
import { RawClient } from '../../support/raw-client.js';
import { waitFor } from '../../support/wait.js';

function open(url: string, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [SUBPROTOCOLS.msgpack], { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('payload rules on a hub', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startHub({
      namespaces: {
        chat: {
          payload: {
            maxBytes: 200,
            schema: {
              type: 'object',
              properties: { text: { type: 'string', maxLength: 50 }, to: { type: 'array', items: { type: 'string' } } },
              required: ['text'],
              additionalProperties: false,
            },
          },
        },
      },
    });
  });
  after(() => hub.stop());

  it('refuses a publish that breaks the schema with 114 naming the paths; nothing reaches subscribers', async () => {
    const subscriber = await RawClient.connected(hub.url);
    await subscriber.ok({ t: 'sub', ch: 'chat:1' });
    const publisher = await RawClient.connected(hub.url, 'json');
    const cases: Array<[unknown, RegExp]> = [
      [{ text: 1 }, /^d\/text: must be string \(schema #\/properties\/text\/type\)$/],
      [{ text: 'hi', to: ['a', 2] }, /^d\/to\/1: must be string/],
      [{ text: 'hi', admin: true }, /^d: must NOT have additional properties \(schema #\/additionalProperties\)$/],
      [{ text: 'x'.repeat(300) }, /^d: 31\d bytes, over the limit of 200$/],
      ['just a string', /^d: must be object/],
    ];
    for (const [d, message] of cases) {
      const reply = await publisher.request({ t: 'pub', ch: 'chat:1', d });
      assert.equal(reply.t === 'err' && reply.code, ErrorCode.INVALID_PAYLOAD, JSON.stringify(d));
      assert.match(reply.t === 'err' ? reply.msg : '', message);
    }
    const ack = (await publisher.ok({ t: 'pub', ch: 'chat:1', d: { text: 'hello', to: ['bob'] } })) as { off: number };
    assert.equal(ack.off, 1, 'no refused publish took a position');
    await waitFor(() => subscriber.publications('chat:1').length === 1, 'the valid publication');
    assert.deepEqual(subscriber.publications('chat:1')[0]?.d, { text: 'hello', to: ['bob'] });
    assert.equal(hub.node.limits.payloads.refused, cases.length);
    subscriber.close();
    publisher.close();
  });

  it('leaves other namespaces and the HTTP API alone', async () => {
    const client = await RawClient.connected(hub.url);
    await client.ok({ t: 'pub', ch: 'other:1', d: 42 });
    const response = await fetch(`${hub.http}/api/publish`, {
      method: 'POST',
      body: JSON.stringify({ channel: 'chat:1', data: 'services are trusted' }),
    });
    assert.equal(response.status, 200);
    client.close();
  });
});

describe('client addresses behind a trusted proxy', () => {
  it('counts connections per forwarded address only when the peer is a trusted proxy', async () => {
    const trusting = await startHub({ proxy: { trusted: ['127.0.0.1'] } });
    const ws = await open(trusting.url, { 'x-forwarded-for': '198.51.100.23' });
    await waitFor(() => trusting.node.limits.perIp.openFrom('198.51.100.23') === 1, 'the forwarded address counted');
    assert.equal(trusting.node.limits.perIp.openFrom('127.0.0.1'), 0);
    const session = [...trusting.node.sessions][0];
    assert.equal(session?.socket.remoteAddress, '198.51.100.23');
    ws.close();
    await waitFor(() => trusting.node.limits.perIp.openFrom('198.51.100.23') === 0, 'the close counted');
    await trusting.stop();

    const wary = await startHub();
    const spoofing = await open(wary.url, { 'x-forwarded-for': '198.51.100.23' });
    await waitFor(() => wary.node.limits.perIp.openFrom('127.0.0.1') === 1, 'the peer address counted');
    assert.equal(wary.node.limits.perIp.openFrom('198.51.100.23'), 0);
    spoofing.close();
    await wary.stop();
  });
});
