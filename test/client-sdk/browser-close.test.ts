import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Client, type WebSocketLike } from '../../client-sdk/src/index.js';
import { Transport } from '../../client-sdk/src/transport.js';
import { waitFor } from '../support/wait.js';

/**
 * A WebSocket as strict as a browser's about close(): a code other than 1000 or 3000–4999 throws
 * InvalidAccessError, a reason over 123 UTF-8 bytes throws SyntaxError. Every connection fails
 * (1006), like one to a hub that is down.
 */
class StrictSocket implements WebSocketLike {
  static readonly made: StrictSocket[] = [];
  binaryType = 'blob';
  readonly protocol = '';
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  closedWith: [number, string] | undefined;

  constructor() {
    StrictSocket.made.push(this);
    setTimeout(() => {
      this.onerror?.({});
      this.onclose?.({ code: 1006, reason: '' });
    }, 1);
  }

  send(): void {}

  close(code = 1000, reason = ''): void {
    if (code !== 1000 && (code < 3000 || code > 4999)) throw new Error(`InvalidAccessError: ${code}`);
    if (new TextEncoder().encode(reason).byteLength > 123) throw new Error('SyntaxError: reason too long');
    this.closedWith = [code, reason];
  }
}

describe('closing sockets the way browsers allow', () => {
  it('keeps reconnecting after connections that fail with 1006', async () => {
    StrictSocket.made.length = 0;
    const client = new Client('ws://hub.invalid/ws', { WebSocket: StrictSocket, backoff: { initialMs: 1, maxMs: 5 } });
    let disconnects = 0;
    client.on('disconnected', () => disconnects++);
    client.connect();
    try {
      await waitFor(() => disconnects >= 3 && StrictSocket.made.length >= 3, 'three failed attempts');
      assert.deepEqual(StrictSocket.made[0]?.closedWith, [1000, '']);
    } finally {
      client.close();
    }
  });

  it('shortens a close reason to 123 UTF-8 bytes, on a character boundary', () => {
    const ignore = () => {};
    const transport = new Transport(StrictSocket, 'ws://hub.invalid/ws', 'json', {
      open: ignore,
      frame: ignore,
      badFrame: ignore,
      close: ignore,
    });
    transport.close(4000, 'é'.repeat(100));
    const socket = StrictSocket.made.at(-1);
    assert.deepEqual(socket?.closedWith, [4000, 'é'.repeat(61)]);
  });
});
