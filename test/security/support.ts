import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { type ErrorReply, type OkReply, SUBPROTOCOLS, type WireFormat } from '@switchboard/protocol';
import { type JWTPayload, SignJWT } from 'jose';
import WebSocket from 'ws';
import { startHub, type TestHub } from '../support/hub.js';

export { upgradeRefusal } from '../support/upgrade.js';

import { RawClient } from '../support/raw-client.js';
import { waitFor } from '../support/wait.js';

export const SECRET = 'a-development-secret-of-at-least-32-characters';
export const ISSUER = 'https://issuer.test';
export const AUDIENCE = 'switchboard';

/** An RSA key pair made for the test run; the hub gets only the public half. */
export const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const rsaPublicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();

const now = () => Math.floor(Date.now() / 1000);

/** A token with sensible defaults (iss, aud, 1 h lifetime), signed RS256 unless told otherwise. */
export async function mint(
  claims: JWTPayload & Record<string, unknown> = {},
  options: { alg?: string; key?: KeyObject | Uint8Array; exp?: number | null; header?: Record<string, unknown> } = {},
): Promise<string> {
  const alg = options.alg ?? 'RS256';
  const key = options.key ?? (alg.startsWith('HS') ? new TextEncoder().encode(SECRET) : rsa.privateKey);
  const payload: JWTPayload = { iss: ISSUER, aud: AUDIENCE, iat: now(), ...claims };
  if (options.exp !== null) payload.exp = options.exp ?? now() + 3600;
  return new SignJWT(payload).setProtectedHeader({ alg, ...options.header }).sign(key);
}

/** The hub configuration the attack suite runs against: authentication on, an origin allow-list. */
export const SECURE_CONFIG = {
  auth: {
    keys: [
      { alg: 'RS256', publicKey: rsaPublicPem },
      { alg: 'HS256', secret: SECRET },
    ],
    issuer: ISSUER,
    audience: AUDIENCE,
  },
  origins: ['https://app.example.com'],
  namespaces: {
    news: { subscribe: 'public', publish: 'granted' },
    watch: { subscribe: 'authenticated' },
    orders: {},
    admin: {},
    user: { subscribe: 'user', publish: 'user' },
    ro: { subscribe: 'authenticated', publish: 'authenticated', clientPublish: false },
  },
} as const;

export function startSecureHub(overrides: Record<string, unknown> = {}): Promise<TestHub> {
  return startHub({ ...SECURE_CONFIG, ...overrides } as unknown as Parameters<typeof startHub>[0]);
}

/** Opens a socket and sends connect with `token`; resolves with the client and the reply. */
export async function connectWith(
  url: string,
  token: string | undefined,
  format: WireFormat = 'msgpack',
): Promise<{ client: RawClient; reply: OkReply | ErrorReply }> {
  const client = await RawClient.open(url, format);
  const reply = await client.request(token === undefined ? { t: 'connect' } : { t: 'connect', token });
  return { client, reply };
}

/** Like connectWith, but fails unless the connect succeeded. */
export async function connected(url: string, token: string | undefined): Promise<RawClient> {
  const { client, reply } = await connectWith(url, token);
  assert.equal(reply.t, 'ok', `connect refused: ${JSON.stringify(reply)}`);
  return client;
}

export function errorCode(reply: OkReply | ErrorReply): number | undefined {
  return reply.t === 'err' ? reply.code : undefined;
}

/**
 * A bystander: an authenticated client subscribed to `watch:<name>`. `assertHealthy` checks that
 * the hub still answers /healthz and that this client still receives what is published.
 */
export class Watcher {
  private count = 0;
  private constructor(
    readonly client: RawClient,
    readonly channel: string,
  ) {}

  static async start(hub: TestHub, name: string): Promise<Watcher> {
    const client = await connected(hub.url, await mint({ sub: `watcher-${name}` }));
    const channel = `watch:${name}`;
    await client.ok({ t: 'sub', ch: channel });
    return new Watcher(client, channel);
  }

  async assertHealthy(hub: TestHub): Promise<void> {
    const health = await fetch(`${hub.http}/healthz`);
    assert.equal(health.status, 200, '/healthz answers 200');
    this.count += 1;
    const published = await fetch(`${hub.http}/api/publish`, {
      method: 'POST',
      body: JSON.stringify({ channel: this.channel, data: { n: this.count } }),
    });
    assert.equal(published.status, 200, 'the hub still accepts publications');
    await waitFor(
      () => this.client.publications(this.channel).some((p) => (p.d as { n?: number }).n === this.count),
      'the bystander to receive the publication',
    );
    assert.equal(this.client.closed, undefined, 'the bystander is still connected');
  }

  close(): void {
    this.client.close();
  }
}

/** Opens a WebSocket with options (origin, headers) and resolves once it is open. */
export function openSocket(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [SUBPROTOCOLS.msgpack], options);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with ${res.statusCode}`)));
  });
}
