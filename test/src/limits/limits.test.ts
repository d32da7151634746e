import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '@switchboard/protocol';
import { HubError } from '../../../src/errors.js';
import { AddressSet, clientAddress, isLoopback, limitKey, normalizeAddress } from '../../../src/limits/address.js';
import { PayloadValidator, schemaProblem } from '../../../src/limits/payload.js';
import { PerIpLimiter } from '../../../src/limits/per-ip.js';
import { MessageRate, TokenBucket } from '../../../src/limits/rate.js';

describe('addresses', () => {
  it('normalizes what uWS reports', () => {
    assert.equal(normalizeAddress('0000:0000:0000:0000:0000:ffff:7f00:0001'), '127.0.0.1');
    assert.equal(normalizeAddress('0000:0000:0000:0000:0000:0000:0000:0001'), '::1');
    assert.equal(normalizeAddress('2001:0db8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
    assert.equal(normalizeAddress(' 203.0.113.9 '), '203.0.113.9');
    assert.equal(normalizeAddress('not an address'), 'not an address');
  });

  it('knows loopback, and counts IPv6 per /64', () => {
    assert.ok(isLoopback('127.0.0.1') && isLoopback('127.9.9.9') && isLoopback('::1'));
    assert.ok(!isLoopback('10.0.0.1') && !isLoopback('::2'));
    assert.equal(limitKey('2001:db8:1:2:aaaa::1'), limitKey('2001:db8:1:2:bbbb::2'));
    assert.notEqual(limitKey('2001:db8:1:2::1'), limitKey('2001:db8:1:3::1'));
    assert.equal(limitKey('198.51.100.1'), '198.51.100.1');
  });

  it('believes X-Forwarded-For only from trusted proxies, and only its right-most untrusted hop', () => {
    const trusted = new AddressSet(['127.0.0.1', '10.0.0.0/8']);
    const xff = (peer: string, header: string) =>
      clientAddress(peer, trusted, { xForwardedFor: header, proxyProtocol: '' }, 'x-forwarded-for');
    assert.equal(xff('198.51.100.7', '1.2.3.4'), '198.51.100.7', 'an untrusted peer cannot claim an address');
    assert.equal(xff('127.0.0.1', '6.6.6.6, 203.0.113.5, 10.1.2.3'), '203.0.113.5', 'client-written hops are skipped');
    assert.equal(xff('127.0.0.1', ''), '127.0.0.1');
    assert.equal(xff('127.0.0.1', 'garbage'), '127.0.0.1');
    const proxied = (peer: string, source: string) =>
      clientAddress(peer, trusted, { xForwardedFor: '9.9.9.9', proxyProtocol: source }, 'proxy-protocol');
    assert.equal(proxied('10.0.0.5', '203.0.113.8'), '203.0.113.8');
    assert.equal(proxied('198.51.100.7', '203.0.113.8'), '198.51.100.7', 'a PROXY header from anyone else is ignored');
  });
});

describe('rates', () => {
  it('token bucket: a burst, then the refill rate', () => {
    const bucket = new TokenBucket({ perSecond: 10, capacity: 3 }, 0);
    assert.deepEqual([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)], [true, true, true, false]);
    assert.equal(bucket.take(50), false);
    assert.equal(bucket.take(100), true);
    assert.equal(bucket.isFull(10_000), true);
  });

  it('message rate: ok within the bucket, refuse beyond, close when refusals keep coming', () => {
    const rate = new MessageRate({ perSecond: 5, capacity: 5 }, 0);
    const verdicts = Array.from({ length: 12 }, () => rate.admit(0));
    assert.deepEqual(verdicts, [...Array(5).fill('ok'), ...Array(5).fill('refuse'), 'close', 'close']);
    const polite = new MessageRate({ perSecond: 5, capacity: 5 }, 0);
    for (let t = 0; t < 5_000; t += 200) assert.equal(polite.admit(t), 'ok');
  });

  it('per address: caps open connections and the connect rate, and forgets idle addresses', () => {
    const limiter = new PerIpLimiter({ maxConnectionsPerIp: 2, connectsPerSecondPerIp: 1, connectBurstPerIp: 3 });
    assert.equal(limiter.admit('1.1.1.1', 0), 'ok');
    limiter.opened('1.1.1.1');
    assert.equal(limiter.admit('1.1.1.1', 0), 'ok');
    limiter.opened('1.1.1.1');
    assert.equal(limiter.admit('1.1.1.1', 0), 'too-many-connections');
    assert.equal(limiter.admit('2.2.2.2', 0), 'ok', 'other addresses are unaffected');
    limiter.closed('1.1.1.1');
    assert.equal(limiter.admit('1.1.1.1', 0), 'ok');
    assert.equal(limiter.admit('1.1.1.1', 0), 'too-many-connects');
    limiter.closed('1.1.1.1');
    assert.equal(limiter.openFrom('1.1.1.1'), 0);
    limiter.admit('3.3.3.3', 60_000);
    assert.equal(limiter.size, 1, 'idle addresses were swept');
  });
});

describe('payload rules', () => {
  const validator = new PayloadValidator(
    new Map([
      [
        'chat',
        { maxBytes: 64, schema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } },
      ],
      ['free', undefined],
    ]),
  );
  const refusal = (ns: string, data: unknown) => {
    try {
      validator.check(ns, data);
      return undefined;
    } catch (error) {
      assert.ok(error instanceof HubError);
      assert.equal(error.code, ErrorCode.INVALID_PAYLOAD);
      return error.message;
    }
  };

  it('passes what conforms, refuses with the failing data and schema paths', () => {
    assert.equal(refusal('chat', { text: 'hi' }), undefined);
    assert.equal(refusal('free', 'x'.repeat(10_000)), undefined);
    assert.equal(refusal('chat', { text: 5 }), 'd/text: must be string (schema #/properties/text/type)');
    assert.equal(refusal('chat', {}), "d: must have required property 'text' (schema #/required)");
    assert.match(refusal('chat', { text: 'x'.repeat(100) }) ?? '', /^d: 111 bytes, over the limit of 64/);
    assert.equal(validator.refused, 3);
  });

  it('reports schemas that cannot compile', () => {
    assert.equal(schemaProblem({ type: 'string' }), undefined);
    assert.match(schemaProblem({ type: 'nonsense' }) ?? '', /not a usable JSON Schema/);
    assert.match(schemaProblem({ type: 'string', format: 'email' }) ?? '', /unknown format/);
  });
});
