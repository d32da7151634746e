import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeServerFrame, msgpackCodec, SUBPROTOCOLS } from '@switchboard/protocol';
import WebSocket from 'ws';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { SwitchboardNode } from '../../src/node.js';
import { startHub, type TestHub } from '../support/hub.js';

/** A self-signed certificate for 127.0.0.1 and localhost, made by openssl for this run. */
function selfSigned(): { cert: string; key: string; pem: string } {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'],
      ...['-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      ...['-keyout', key, '-out', cert],
    ],
    { stdio: 'ignore' },
  );
  return { cert, key, pem: readFileSync(cert, 'utf8') };
}

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('TLS termination (uWS SSLApp)', () => {
  let hub: TestHub;
  let certificate: ReturnType<typeof selfSigned>;
  before(async () => {
    certificate = selfSigned();
    hub = await startHub({ tls: { certFile: certificate.cert, keyFile: certificate.key } });
  });
  after(() => hub.stop());

  it('serves wss:// with the configured certificate', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${hub.port}/ws`, [SUBPROTOCOLS.msgpack], { ca: certificate.pem });
    ws.binaryType = 'arraybuffer';
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const reply = new Promise<unknown>((resolve) =>
      ws.once('message', (data: ArrayBuffer) => resolve(decodeServerFrame(msgpackCodec, new Uint8Array(data)))),
    );
    ws.send(msgpackCodec.encode({ t: 'connect', id: 1 }));
    const decoded = (await reply) as { kind: string; frame: { t: string } };
    assert.equal(decoded.frame.t, 'ok');
    ws.close();
  });

  it('serves https:// for the HTTP routes', async () => {
    const health = await httpsGet(`https://127.0.0.1:${hub.port}/healthz`, certificate.pem);
    assert.equal(health.status, 200);
  });

  it('is refused by clients that do not trust the certificate, and speaks no plain HTTP', async () => {
    await assert.rejects(httpsGet(`https://127.0.0.1:${hub.port}/healthz`, ''), /self.signed|certificate/i);
    await assert.rejects(fetch(`http://127.0.0.1:${hub.port}/healthz`));
  });

  it('names an unreadable certificate file at startup', () => {
    const config = parseConfig({ port: 0, tls: { certFile: '/nonexistent/cert.pem', keyFile: certificate.key } });
    assert.throws(() => new SwitchboardNode(config, createLogger('silent')), /tls\.certFile: cannot read/);
  });
});
