import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import {
  Client,
  fallbackLink,
  sseLink,
  type WebSocketConstructor,
  type WebSocketLike,
  webSocketLink,
} from '../../client-sdk/src/index.js';
import { httpBase } from '../../client-sdk/src/sse-link.js';
import { startHub, type TestHub } from '../support/hub.js';
import { waitFor } from '../support/wait.js';

/**
 * A WebSocket between the client and the hub that something breaks while `blocked`: the upgrade
 * fails (1006, never open), as behind a proxy that refuses `Upgrade`. Otherwise a real `ws`.
 */
function breakable(): { WebSocket: WebSocketConstructor; state: { blocked: boolean; attempts: number } } {
  const state = { blocked: true, attempts: 0 };
  const failed = (): WebSocketLike => {
    const socket: WebSocketLike = {
      binaryType: 'arraybuffer',
      protocol: '',
      onopen: null,
      onmessage: null,
      onclose: null,
      onerror: null,
      send: () => undefined,
      close: () => undefined,
    };
    setTimeout(() => socket.onclose?.({ code: 1006, reason: '' }), 1);
    return socket;
  };
  // A plain function called with `new` may return the object to use.
  function Breakable(url: string, protocols?: string | string[]): WebSocketLike {
    state.attempts += 1;
    return state.blocked ? failed() : (new WebSocket(url, protocols) as unknown as WebSocketLike);
  }
  return { WebSocket: Breakable as unknown as WebSocketConstructor, state };
}

describe('sseLink: a Client over HTTP streaming', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startHub();
  });
  after(() => hub.stop());

  it('maps the WebSocket URL to the hub’s HTTP base', () => {
    assert.equal(httpBase('ws://127.0.0.1:8080/ws'), 'http://127.0.0.1:8080');
    assert.equal(httpBase('wss://rt.example.com/rt/ws'), 'https://rt.example.com/rt');
  });

  it('subscribes, publishes with acks and receives, and says it is on sse', async () => {
    const client = new Client(hub.url, { link: sseLink() });
    try {
      const subscription = client.subscribe('over-sse');
      await subscription.ready;
      assert.equal(client.transport, 'sse');
      const received: unknown[] = [];
      subscription.on('publication', (publication) => received.push(publication.data));
      for (let i = 1; i <= 5; i++) await client.publish('over-sse', { i });
      await waitFor(() => received.length === 5, 'five publications');
      assert.deepEqual(received, [{ i: 1 }, { i: 2 }, { i: 3 }, { i: 4 }, { i: 5 }]);
    } finally {
      client.close();
    }
  });
});

describe('fallbackLink: WebSocket first, HTTP streaming where upgrades fail', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startHub();
  });
  after(() => hub.stop());

  it('falls back at once when the upgrade fails, and returns to WebSocket once it works, losing nothing', async () => {
    const { WebSocket: Blockable, state } = breakable();
    const link = fallbackLink(webSocketLink({ WebSocket: Blockable }), sseLink(), { retryWebSocketMs: 300 });
    const client = new Client(hub.url, { link });
    try {
      const subscription = client.subscribe('moving');
      const received: number[] = [];
      subscription.on('publication', (publication) => received.push((publication.data as { n: number }).n));
      await subscription.ready;
      assert.equal(client.transport, 'sse');
      await client.publish('moving', { n: 1 });
      state.blocked = false;
      await waitFor(() => client.transport === 'websocket', 'the move back to WebSocket', 10_000);
      for (let n = 2; n <= 4; n++) await client.publish('moving', { n });
      await waitFor(() => received.length >= 4, 'every publication');
      assert.deepEqual(received, [1, 2, 3, 4]);
    } finally {
      client.close();
    }
  });

  it('goes back to WebSocket first when the hub itself was down, not to the fallback', async () => {
    const { WebSocket: Blockable, state } = breakable();
    state.blocked = false;
    const link = fallbackLink(webSocketLink({ WebSocket: Blockable }), sseLink());
    const down = `ws://127.0.0.1:1/ws`;
    const client = new Client(down, { link, backoff: { initialMs: 10, maxMs: 20 } });
    try {
      client.subscribe('anything');
      await waitFor(() => state.attempts >= 3, 'three WebSocket attempts', 5_000);
      assert.equal(client.transport, undefined);
    } finally {
      client.close();
    }
  });
});
