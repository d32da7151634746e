import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { CloseCode } from '@switchboard/protocol';
import { startHub } from '../support/hub.js';
import { RawClient } from '../support/raw-client.js';
import { waitFor } from '../support/wait.js';

describe('slow consumers', () => {
  it('closes a client that stopped reading with 4001 once its backlog passes the limit, and spares the others', async () => {
    const hub = await startHub({ limits: { maxBackpressureBytes: 64 * 1024 } });
    const slow = await RawClient.connected(hub.url);
    const healthy = await RawClient.connected(hub.url);
    await slow.ok({ t: 'sub', ch: 'firehose' });
    await healthy.ok({ t: 'sub', ch: 'firehose' });
    const socket = (slow.ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    const slowSession = [...hub.node.sessions][0];
    assert.ok(slowSession);
    const publisher = await RawClient.connected(hub.url);
    const payload = 'x'.repeat(16 * 1024);
    // Loopback kernel buffers absorb megabytes before the hub queues anything: publish until the
    // hub itself holds more than the limit for the slow client, and no further.
    for (let i = 0; i < 2_000 && slowSession.socket.bufferedAmount() <= 64 * 1024; i++) {
      await publisher.ok({ t: 'pub', ch: 'firehose', d: payload });
    }
    assert.ok(slowSession.socket.bufferedAmount() > 64 * 1024, 'the hub holds a backlog for the slow client');
    await waitFor(() => hub.node.slowConsumers.closed === 1, 'the sweep to close the slow client', 5_000);
    socket.resume();
    assert.equal((await slow.waitClosed()).code, CloseCode.SLOW_CONSUMER);
    await publisher.ok({ t: 'pub', ch: 'firehose', d: 'after' });
    await waitFor(() => healthy.publications('firehose').some((p) => p.d === 'after'), 'the healthy client to go on');
    assert.equal(healthy.closed, undefined);
    healthy.close();
    publisher.close();
    await hub.stop();
  });
});
