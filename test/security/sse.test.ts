import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CloseCode, ErrorCode } from '@switchboard/protocol';
import type { TestHub } from '../support/hub.js';
import { SseTestClient } from '../support/sse-client.js';
import { waitFor } from '../support/wait.js';
import { mint, startSecureHub } from './support.js';

const ORIGIN = 'https://app.example.com';

describe('attack: the SSE fallback gives no way around auth, grants, origins or the slow-consumer close', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startSecureHub({ limits: { maxBackpressureBytes: 64 * 1024 } });
  });
  after(() => hub.stop());

  it('authenticates the Authorization header’s token like a connect frame’s, and authorizes the URL’s channels', async () => {
    const token = await mint({ sub: 'alice' });
    const stream = await SseTestClient.connected(`${hub.http}/sse?ch=user:alice&ch=user:bob`, {
      headers: { authorization: `Bearer ${token}`, origin: ORIGIN },
    });
    await waitFor(() => stream.reply(3) !== undefined, 'both subscribes answered');
    assert.equal(stream.reply(1)?.t, 'ok');
    assert.equal(stream.reply(2)?.t, 'ok', 'her own channel');
    assert.equal(stream.reply(3)?.t, 'err', 'another user’s channel');
    assert.equal(stream.reply(3)?.code, ErrorCode.PERMISSION_DENIED);
    assert.equal(hub.node.streams.members('user:bob'), 0);
    stream.close();
  });

  it('refuses a bad token with 101 on the stream, then closes it with 4501 in a close event', async () => {
    const stream = await SseTestClient.connected(`${hub.http}/sse?ch=user:alice`, {
      headers: { authorization: 'Bearer not-a-token' },
    });
    await waitFor(() => stream.ended, 'the stream to end');
    assert.equal(stream.reply(1)?.t, 'err');
    assert.equal(stream.reply(1)?.code, ErrorCode.UNAUTHORIZED);
    assert.equal(stream.closeCode, CloseCode.UNAUTHORIZED);
    assert.equal(
      stream.reply(2),
      undefined,
      'nothing subscribed: the URL’s channels wait for a connect that succeeded',
    );
  });

  it('refuses a foreign origin on every SSE route with 403', async () => {
    const headers = { origin: 'https://evil.example' };
    assert.equal((await fetch(`${hub.http}/sse`, { headers })).status, 403);
    const ticket = await fetch(`${hub.http}/sse/ticket`, { method: 'POST', headers, body: '{"t":"connect","id":1}' });
    assert.equal(ticket.status, 403);
    const command = await fetch(`${hub.http}/sse/cmd`, { method: 'POST', headers, body: '{}' });
    assert.equal(command.status, 403);
    assert.deepEqual(await command.json(), { error: 'origin not allowed' });
  });

  it('closes a stream that does not read with 4001, like a slow WebSocket, and keeps serving', async () => {
    // A raw socket that subscribes and then stops reading: the hub's queue for it grows.
    const socket = net.connect(hub.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /sse?ch=news:flood HTTP/1.1\r\nHost: hub\r\n\r\n');
    await waitFor(() => hub.node.streams.members('news:flood') === 1, 'the subscription');
    socket.pause();
    const open = () => [...hub.node.sessions].some((session) => session.channels.has('news:flood'));
    const big = 'x'.repeat(16 * 1024);
    // Up to 32 MiB: loopback socket buffers take a few MiB before the hub sees any backpressure.
    for (let i = 0; i < 2000 && open(); i++) {
      await fetch(`${hub.http}/api/publish`, {
        method: 'POST',
        body: JSON.stringify({ channel: 'news:flood', data: big }),
      });
    }
    await waitFor(() => !open(), 'the slow stream to be closed', 10_000);
    // Read what was queued: it ends with the close event that says why.
    let tail = '';
    socket.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString('latin1')).slice(-200);
    });
    socket.resume();
    await new Promise((resolve) => socket.once('end', resolve));
    assert.match(tail, /event: close\ndata: \{"code":4001,"reason":"slow consumer"\}\n\n/);
    socket.destroy();
    const after = await SseTestClient.connected(`${hub.http}/sse?ch=news:after`);
    await waitFor(() => after.reply(2)?.t === 'ok', 'a new stream');
    after.close();
  });
});
