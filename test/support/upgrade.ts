import { SUBPROTOCOLS } from '@switchboard/protocol';
import WebSocket from 'ws';

/** Opens a WebSocket expecting the upgrade to be refused; resolves with the HTTP status and body. */
export function upgradeRefusal(
  url: string,
  options: WebSocket.ClientOptions = {},
  protocols: string[] = [SUBPROTOCOLS.msgpack],
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    ws.on('open', () => {
      ws.close();
      reject(new Error('the upgrade was accepted'));
    });
    ws.on('error', () => undefined);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
  });
}
