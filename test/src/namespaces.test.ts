import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '@switchboard/protocol';
import { parseConfig } from '../../src/config.js';
import { HubError } from '../../src/errors.js';
import { Namespaces } from '../../src/namespaces.js';

describe('namespaces', () => {
  it('resolves a channel by the part before its first colon', () => {
    const namespaces = new Namespaces(parseConfig({ namespaces: { orders: { history: { size: 7, ttlSeconds: 2 } } } }));
    const resolved = namespaces.of('orders:42:lines');
    assert.equal(resolved.name, 'orders');
    assert.deepEqual(resolved.history, { size: 7, ttlMs: 2000 });
  });

  it('applies the default namespace to unlisted namespaces and plain channels', () => {
    const namespaces = new Namespaces(parseConfig({ defaultNamespace: { clientPublish: false } }));
    assert.equal(namespaces.of('news').settings.clientPublish, false);
    assert.equal(namespaces.of('other:1').name, '');
  });

  it('refuses unlisted namespaces with error 102 when strict', () => {
    const namespaces = new Namespaces(parseConfig({ strictNamespaces: true, namespaces: { orders: {} } }));
    assert.equal(namespaces.of('orders:1').name, 'orders');
    assert.throws(
      () => namespaces.of('admin:1'),
      (error: unknown) => error instanceof HubError && error.code === ErrorCode.UNKNOWN_CHANNEL,
    );
  });
});
