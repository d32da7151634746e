import WebSocket from 'ws';
import type { WebSocketConstructor } from '../../client-sdk/src/index.js';

/** A `ws` WebSocket class for the SDK whose sockets add up the bytes they receive: what a push costs on the wire. */
export function countingWebSocket(): { readonly WebSocket: WebSocketConstructor; bytes(): number } {
  let received = 0;
  class Counting extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      // With binaryType 'arraybuffer' (the SDK's), data is an ArrayBuffer; Buffers have byteLength too.
      this.on('message', (data: ArrayBuffer) => {
        received += data.byteLength;
      });
    }
  }
  return { WebSocket: Counting as unknown as WebSocketConstructor, bytes: () => received };
}
