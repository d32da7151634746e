import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChannelPatterns, globMatches } from '../../../src/auth/patterns.js';
import { parseConfig } from '../../../src/config.js';

describe('channel patterns from token claims', () => {
  it('matches exact names, trailing stars and stars anywhere', () => {
    const patterns = new ChannelPatterns(['news:eu', 'orders:*', 'chat:*:public', 'x*y*z']);
    for (const ch of ['news:eu', 'orders:1', 'orders:1:items', 'chat:room:public', 'chat::public', 'xyz', 'x-y-z']) {
      assert.ok(patterns.matches(ch), ch);
    }
    for (const ch of ['news:us', 'news:eu2', 'orders', 'ordersX', 'chat:room:private', 'x-y', 'xzy']) {
      assert.ok(!patterns.matches(ch), ch);
    }
    assert.ok(new ChannelPatterns(['*']).matches('anything:at:all'));
  });

  it('stays fast on patterns built to backtrack', () => {
    const started = performance.now();
    assert.equal(globMatches(`${'a*'.repeat(120)}b`, 'a'.repeat(255)), false);
    assert.ok(performance.now() - started < 200);
  });

  it('takes only lists of valid patterns from a claim', () => {
    assert.ok(ChannelPatterns.fromClaim(undefined)?.isEmpty);
    assert.ok(ChannelPatterns.fromClaim(['orders:*']));
    for (const bad of ['orders:*', [1], ['has space'], [''], ['x'.repeat(256)], Array(1001).fill('a'), { a: 1 }]) {
      assert.equal(ChannelPatterns.fromClaim(bad), undefined, JSON.stringify(bad).slice(0, 40));
    }
  });
});

describe('auth configuration', () => {
  it('is off by default, and rules need it', () => {
    assert.equal(parseConfig({}).auth, undefined);
    assert.throws(
      () => parseConfig({ namespaces: { a: { subscribe: 'public' } } }),
      /namespaces\.a\.subscribe: needs the auth settings/,
    );
  });

  it('names a payload schema that does not compile', () => {
    assert.throws(
      () => parseConfig({ defaultNamespace: { payload: { schema: { type: 'text' } } } }),
      /defaultNamespace\.payload\.schema: not a usable JSON Schema/,
    );
  });

  it('can be set from the environment', async () => {
    const { loadConfig } = await import('../../../src/config.js');
    const config = loadConfig(undefined, {
      SWITCHBOARD_AUTH__KEYS: JSON.stringify([{ alg: 'HS256', secret: 's'.repeat(32) }]),
      SWITCHBOARD_HTTP__API_KEY: 'k'.repeat(24),
      SWITCHBOARD_ORIGINS: '["https://app.example.com"]',
    });
    assert.equal(config.auth?.keys[0]?.alg, 'HS256');
    assert.equal(config.http.apiKey, 'k'.repeat(24));
    assert.deepEqual(config.origins, ['https://app.example.com']);
  });
});
