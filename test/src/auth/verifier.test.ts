import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '@switchboard/protocol';
import { exportJWK, SignJWT } from 'jose';
import { AuthSettings } from '../../../src/auth/config.js';
import { AuthError } from '../../../src/auth/errors.js';
import { KeyError, loadKeys } from '../../../src/auth/keys.js';
import { TokenVerifier } from '../../../src/auth/verifier.js';

const SECRET = 'another-development-secret-with-32-chars+';
const pairs = {
  RS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ES256: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }),
  EdDSA: generateKeyPairSync('ed25519'),
};
const pem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();
const hour = () => Math.floor(Date.now() / 1000) + 3600;

function sign(alg: string, key: KeyObject | Uint8Array, claims: Record<string, unknown> = {}, kid?: string) {
  return new SignJWT({ sub: 'alice', exp: hour(), ...claims })
    .setProtectedHeader({ alg, ...(kid ? { kid } : {}) })
    .sign(key);
}

const verifier = (settings: Record<string, unknown>) => new TokenVerifier(AuthSettings.parse(settings));

async function refusal(promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AuthError, String(error));
    return error;
  }
  assert.fail('expected a refusal');
}

describe('TokenVerifier', () => {
  it('verifies HS256, RS256, ES256 and EdDSA with keys as a secret, PEM, JWK and certificate', async () => {
    const jwk = await exportJWK(pairs.ES256.publicKey);
    const v = verifier({
      keys: [
        { alg: 'HS256', secret: SECRET },
        { alg: 'RS256', publicKey: pem(pairs.RS256.publicKey) },
        { alg: 'ES256', jwk },
        { alg: 'EdDSA', publicKey: pem(pairs.EdDSA.publicKey) },
      ],
    });
    assert.equal((await v.verify(await sign('HS256', new TextEncoder().encode(SECRET)))).sub, 'alice');
    for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
      assert.equal((await v.verify(await sign(alg, pairs[alg].privateKey))).sub, 'alice', alg);
    }
    assert.deepEqual([...v.algorithms].sort(), ['ES256', 'EdDSA', 'HS256', 'RS256']);
  });

  it('reads a secret file and a certificate file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-keys-'));
    writeFileSync(join(dir, 'secret'), `${SECRET}\n`);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=issuer',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const v = verifier({
      keys: [
        { alg: 'HS256', secretFile: join(dir, 'secret') },
        { alg: 'RS256', publicKeyFile: join(dir, 'cert.pem') },
      ],
    });
    assert.ok(await v.verify(await sign('HS256', new TextEncoder().encode(SECRET))));
    const privateKey = createPrivateKey(readFileSync(join(dir, 'key.pem')));
    assert.ok(await v.verify(await sign('RS256', privateKey)));
  });

  it('picks the key by kid and tries each key of the algorithm otherwise (rotation)', async () => {
    const second = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const v = verifier({
      keys: [
        { alg: 'RS256', kid: 'old', publicKey: pem(pairs.RS256.publicKey) },
        { alg: 'RS256', kid: 'new', publicKey: pem(second.publicKey) },
      ],
    });
    assert.equal((await v.verify(await sign('RS256', second.privateKey, {}, 'new'))).sub, 'alice');
    assert.equal((await v.verify(await sign('RS256', second.privateKey))).sub, 'alice');
    const wrongKid = await refusal(v.verify(await sign('RS256', second.privateKey, {}, 'old')));
    assert.equal(wrongKid.code, ErrorCode.UNAUTHORIZED);
  });

  it('never lets a key verify another algorithm family', async () => {
    const v = verifier({ keys: [{ alg: 'ES256', publicKey: pem(pairs.ES256.publicKey) }] });
    const rs = await refusal(v.verify(await sign('RS256', pairs.RS256.privateKey)));
    assert.match(rs.message, /algorithm "RS256" is not accepted/);
    const hsWithPublicKey = await sign('HS256', new TextEncoder().encode(pem(pairs.ES256.publicKey)));
    assert.match((await refusal(v.verify(hsWithPublicKey))).message, /"HS256" is not accepted/);
  });

  it('applies the clock tolerance to exp and nbf', async () => {
    const v = verifier({ keys: [{ alg: 'HS256', secret: SECRET }], clockToleranceSeconds: 30 });
    const key = new TextEncoder().encode(SECRET);
    const now = Math.floor(Date.now() / 1000);
    assert.ok(await v.verify(await sign('HS256', key, { exp: now - 10 })));
    assert.ok(await v.verify(await sign('HS256', key, { nbf: now + 10 })));
    assert.equal((await refusal(v.verify(await sign('HS256', key, { exp: now - 60 })))).code, ErrorCode.TOKEN_EXPIRED);
  });

  it('accepts tokens without exp only when requireExp is off', async () => {
    const key = new TextEncoder().encode(SECRET);
    const forever = await new SignJWT({ sub: 'a' }).setProtectedHeader({ alg: 'HS256' }).sign(key);
    const strict = verifier({ keys: [{ alg: 'HS256', secret: SECRET }] });
    assert.match((await refusal(strict.verify(forever))).message, /"exp"/);
    const lax = verifier({ keys: [{ alg: 'HS256', secret: SECRET }], requireExp: false });
    assert.equal((await lax.verify(forever)).sub, 'a');
  });

  it('accepts one of several issuers and audiences', async () => {
    const v = verifier({ keys: [{ alg: 'HS256', secret: SECRET }], issuer: ['a', 'b'], audience: ['x', 'y'] });
    const key = new TextEncoder().encode(SECRET);
    assert.ok(await v.verify(await sign('HS256', key, { iss: 'b', aud: ['z', 'y'] })));
    assert.match((await refusal(v.verify(await sign('HS256', key, { iss: 'c', aud: 'x' })))).message, /"iss"/);
  });
});

describe('TokenVerifier with a JWKS URL', () => {
  let server: Server;
  let fetches = 0;
  let keys: object[] = [];
  let url = '';
  before(async () => {
    keys = [{ ...(await exportJWK(pairs.ES256.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }];
    server = createServer((_req, res) => {
      fetches += 1;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  after(() => server.close());

  it('fetches the key set once, caches it, and fetches again for a new kid (rotation)', async () => {
    const v = verifier({ jwks: { url, algorithms: ['ES256', 'EdDSA'], cooldownSeconds: 1 } });
    for (let i = 0; i < 3; i++) assert.ok(await v.verify(await sign('ES256', pairs.ES256.privateKey, {}, 'k1')));
    assert.equal(fetches, 1);
    keys = [...keys, { ...(await exportJWK(pairs.EdDSA.publicKey)), kid: 'k2', alg: 'EdDSA', use: 'sig' }];
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.ok(await v.verify(await sign('EdDSA', pairs.EdDSA.privateKey, {}, 'k2')));
    assert.equal(fetches, 2);
  });

  it('refuses algorithms not listed for the set, HMAC among them', async () => {
    const v = verifier({ jwks: { url, algorithms: ['ES256'] } });
    const hs = await sign('HS256', new TextEncoder().encode(SECRET));
    assert.match((await refusal(v.verify(hs))).message, /"HS256" is not accepted/);
  });

  it('answers a temporary 108 while the key set cannot be fetched', async () => {
    const v = verifier({ jwks: { url: 'http://127.0.0.1:9/jwks.json', algorithms: ['ES256'], timeoutMs: 500 } });
    const error = await refusal(v.verify(await sign('ES256', pairs.ES256.privateKey, {}, 'k1')));
    assert.equal(error.code, ErrorCode.NOT_AVAILABLE);
    assert.equal(error.temporary, true);
    assert.equal(error.closeCode, undefined);
  });

  it('only takes https URLs, or http on loopback', () => {
    assert.throws(() => AuthSettings.parse({ jwks: { url: 'http://idp.example/jwks', algorithms: ['RS256'] } }));
    assert.doesNotThrow(() => AuthSettings.parse({ jwks: { url: 'https://idp.example/jwks', algorithms: ['RS256'] } }));
  });
});

describe('loadKeys', () => {
  const load = (key: Record<string, unknown>) => loadKeys(AuthSettings.parse({ keys: [key] }).keys);

  it('refuses a key of another family than its algorithm', () => {
    assert.throws(() => load({ alg: 'RS256', publicKey: pem(pairs.ES256.publicKey) }), /RS256 needs an RSA key/);
    assert.throws(() => load({ alg: 'ES256', publicKey: pem(pairs.RS256.publicKey) }), /ES256 needs an EC key/);
    assert.throws(() => load({ alg: 'ES384', publicKey: pem(pairs.ES256.publicKey) }), /curve secp384r1/);
    assert.throws(() => load({ alg: 'EdDSA', publicKey: pem(pairs.RS256.publicKey) }), /EdDSA needs an Ed25519/);
  });

  it('refuses private keys and short RSA keys', () => {
    const privatePem = pairs.RS256.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.throws(() => load({ alg: 'RS256', publicKey: privatePem }), /not the private key/);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    assert.throws(() => load({ alg: 'RS256', publicKey: pem(small.publicKey) }), /at least 2048 bits/);
  });

  it('names the key of an unreadable file', () => {
    assert.throws(
      () => load({ alg: 'RS256', publicKeyFile: '/nonexistent.pem' }),
      (error: unknown) => error instanceof KeyError && error.path === 'auth.keys.0.publicKeyFile',
    );
  });

  it('needs exactly the key material of its algorithm', () => {
    assert.throws(() => AuthSettings.parse({ keys: [{ alg: 'HS256', publicKey: 'x' }] }), /HS256 needs exactly one/);
    assert.throws(() => AuthSettings.parse({ keys: [{ alg: 'RS256', secret: SECRET }] }), /RS256 needs exactly one/);
    assert.throws(() => AuthSettings.parse({ keys: [{ alg: 'HS256', secret: 'short' }] }), /at least 32/);
    assert.throws(() => AuthSettings.parse({ keys: [{ alg: 'none', secret: SECRET }] }));
    assert.throws(() => AuthSettings.parse({}), /at least one key, or jwks/);
  });
});
