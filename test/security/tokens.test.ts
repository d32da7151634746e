import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloseCode, ErrorCode } from '@switchboard/protocol';
import { UnsecuredJWT } from 'jose';
import type { TestHub } from '../support/hub.js';
import { connectWith, errorCode, mint, rsaPublicPem, startSecureHub, Watcher } from './support.js';

/** Each refused token: the precise err reply, then the precise close, and the hub unharmed. */
describe('attack: forged and invalid tokens', () => {
  let hub: TestHub;
  let watcher: Watcher;
  before(async () => {
    hub = await startSecureHub();
    watcher = await Watcher.start(hub, 'tokens');
  });
  after(async () => {
    watcher.close();
    await hub.stop();
  });

  async function assertRefused(token: string | undefined, code: number, close: number, message: RegExp) {
    const { client, reply } = await connectWith(hub.url, token);
    assert.equal(errorCode(reply), code, JSON.stringify(reply));
    assert.match(reply.t === 'err' ? reply.msg : '', message);
    assert.equal((await client.waitClosed()).code, close);
    assert.equal(hub.node.streams.channelCount, 1, 'nothing but the bystander subscribed');
    await watcher.assertHealthy(hub);
  }

  it('accepts a valid token and reports its expiry', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const { client, reply } = await connectWith(hub.url, await mint({ sub: 'alice' }, { exp }));
    assert.equal(reply.t, 'ok');
    assert.equal((reply.r as { exp?: number }).exp, exp * 1000);
    client.close();
  });

  it('refuses alg none with 101, then closes with 4501', async () => {
    const none = new UnsecuredJWT({ sub: 'mallory', iss: 'https://issuer.test', aud: 'switchboard' })
      .setExpirationTime('1h')
      .encode();
    await assertRefused(none, ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED, /algorithm "none" is not accepted/);
  });

  it('refuses an HS256 token signed with the RSA public key as the secret (key confusion)', async () => {
    const forged = await mint({ sub: 'mallory' }, { alg: 'HS256', key: new TextEncoder().encode(rsaPublicPem) });
    await assertRefused(forged, ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED, /signature is not valid/);
  });

  it('refuses an algorithm no key is bound to', async () => {
    const hs512 = await mint({ sub: 'mallory' }, { alg: 'HS512', key: new TextEncoder().encode('x'.repeat(64)) });
    await assertRefused(hs512, ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED, /algorithm "HS512" is not accepted/);
  });

  it('refuses an expired token with 109, then closes with 4004', async () => {
    const expired = await mint({ sub: 'alice' }, { exp: Math.floor(Date.now() / 1000) - 60 });
    await assertRefused(expired, ErrorCode.TOKEN_EXPIRED, CloseCode.TOKEN_EXPIRED, /token expired/);
  });

  it('refuses a token that is not yet valid (nbf)', async () => {
    const early = await mint({ sub: 'alice', nbf: Math.floor(Date.now() / 1000) + 600 });
    await assertRefused(early, ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED, /"nbf" claim/);
  });

  it('refuses a wrong issuer and a wrong audience', async () => {
    const otherIssuer = await mint({ sub: 'alice', iss: 'https://evil.example' });
    await assertRefused(otherIssuer, ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED, /"iss" claim/);
    const otherAudience = await mint({ sub: 'alice', aud: 'another-service' });
    await assertRefused(otherAudience, ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED, /"aud" claim/);
  });

  it('refuses a token without exp', async () => {
    const forever = await mint({ sub: 'alice' }, { exp: null });
    await assertRefused(forever, ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED, /missing required "exp" claim/);
  });

  it('refuses a tampered payload and garbage', async () => {
    const [header, , signature] = (await mint({ sub: 'alice' })).split('.');
    const payload = Buffer.from(JSON.stringify({ sub: 'admin', exp: 9_999_999_999 })).toString('base64url');
    await assertRefused(
      `${header}.${payload}.${signature}`,
      ErrorCode.UNAUTHORIZED,
      CloseCode.UNAUTHORIZED,
      /signature/,
    );
    await assertRefused('not.a.jwt', ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED, /malformed token/);
  });

  it('lets a connection without a token in only as anonymous, for the public namespace alone', async () => {
    const { client, reply } = await connectWith(hub.url, undefined);
    assert.equal(reply.t, 'ok');
    assert.equal((await client.request({ t: 'sub', ch: 'news:eu' })).t, 'ok');
    for (const ch of ['watch:tokens', 'orders:1', 'user:alice']) {
      assert.equal(errorCode(await client.request({ t: 'sub', ch })), ErrorCode.PERMISSION_DENIED, ch);
    }
    assert.equal(errorCode(await client.request({ t: 'pub', ch: 'news:eu', d: 1 })), ErrorCode.PERMISSION_DENIED);
    client.close();
    await watcher.assertHealthy(hub);
  });

  it('refuses a subscription token used to connect', async () => {
    const subscriptionToken = await mint({ sub: 'alice', channel: 'admin:1' });
    await assertRefused(subscriptionToken, ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED, /subscription token/);
  });

  it('refuses malformed grants', async () => {
    const bad = await mint({ sub: 'alice', channels: 'orders:*' });
    await assertRefused(bad, ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED, /claim channels must be a list/);
  });

  it('counts the refusals', () => {
    assert.ok(hub.node.auth.refused.connect >= 11);
  });
});
