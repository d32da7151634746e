/**
 * The ceiling: a bare uWebSockets.js server (the same `uWebSockets.js` package as the hub) with
 * no protocol, no broker, no validation. It is what the hub's fan-out would cost if the hub did
 * nothing at all but call `app.publish`.
 *
 * Messages (binary): `S<topic>` subscribes the socket to `topic` and is answered with one byte;
 * `P<len><topic><frame>` publishes `frame` verbatim to `topic` as a binary message, `T…` the same
 * as a text message (the load generator sends a copy of the hub's msgpack or JSON push frame, so
 * subscribers receive the same bytes as from the hub). Same native settings as the hub: no
 * compression, backpressure cap with closeOnBackpressureLimit; with a certificate, TLS (SSLApp),
 * as the hub's `tls` setting does.
 *
 * Usage: node --import tsx bench/ceiling-server.ts PORT [deferred|direct] [CERT_FILE KEY_FILE]
 * (prints `ready PORT`)
 */

import type * as UWS from 'uWebSockets.js';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const uws = require('uWebSockets.js') as typeof UWS;
if (typeof uws.SSLApp !== 'function' || typeof uws.getParts !== 'function') {
  process.stderr.write('ceiling: uWebSockets.js fell back to its pure-JS server; refusing to measure it\n');
  process.exit(3);
}

const port = Number(process.argv[2] ?? 0);
const ACK = new Uint8Array([0]);
const S = 0x53;
const P = 0x50;
const T = 0x54;

/**
 * `deferred` (the ceiling): publishes are queued in the message handler and made from a
 * setImmediate, outside any uWS handler. `direct` calls `app.publish` inside the handler, as a
 * hub does that publishes synchronously on receiving a publication; there the publisher's socket
 * is corked, the subscribers' sockets cannot be, and uWS writes every frame with its own syscall.
 */
const DEFER = (process.argv[3] ?? 'deferred') === 'deferred';
/** Flat triples (topic, frame, binary): no object per publication, as lean as the server can be. */
const queue: Array<string | Uint8Array | boolean> = [];
function flush(): void {
  for (let i = 0; i + 2 < queue.length; i += 3)
    app.publish(queue[i] as string, queue[i + 1] as Uint8Array, queue[i + 2] as boolean);
  queue.length = 0;
}
const [certFile, keyFile] = [process.argv[4], process.argv[5]];
const app = certFile && keyFile ? uws.SSLApp({ cert_file_name: certFile, key_file_name: keyFile }) : uws.App();
app.ws('/ws', {
  maxPayloadLength: 128 * 1024,
  maxBackpressure: 8 * 1024 * 1024,
  closeOnBackpressureLimit: 1,
  idleTimeout: 960,
  sendPingsAutomatically: true,
  compression: uws.DISABLED,
  upgrade: (res, req, context) => {
    res.upgrade(
      {},
      req.getHeader('sec-websocket-key'),
      req.getHeader('sec-websocket-protocol').split(',')[0]?.trim() ?? '',
      req.getHeader('sec-websocket-extensions'),
      context,
    );
  },
  message: (ws, message) => {
    const bytes = new Uint8Array(message);
    if (bytes[0] === P || bytes[0] === T) {
      const topicLength = bytes[1] ?? 0;
      const topic = Buffer.from(message, 2, topicLength).toString('latin1');
      const binary = bytes[0] === P;
      if (!DEFER) app.publish(topic, bytes.subarray(2 + topicLength), binary);
      else {
        queue.push(topic, bytes.slice(2 + topicLength), binary);
        if (queue.length === 3) setImmediate(flush);
      }
    } else if (bytes[0] === S) {
      ws.subscribe(Buffer.from(message, 1).toString('latin1'));
      ws.send(ACK, true);
    }
  },
});
app.get('/healthz', (res) => {
  res.end('ok');
});
app.listen('127.0.0.1', port, (socket) => {
  if (!socket) {
    process.stderr.write(`ceiling: cannot listen on ${port}\n`);
    process.exit(1);
  }
  process.stdout.write(`ready ${port}\n`);
});
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
