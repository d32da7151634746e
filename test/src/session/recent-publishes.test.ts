import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentPublishes } from '../../../src/session/recent-publishes.js';

describe('RecentPublishes', () => {
  it('answers a key with its first attempt, and forgets an attempt the target refused', async () => {
    const recent = new RecentPublishes(4);
    const accepted = Promise.resolve({});
    recent.remember('a', accepted);
    assert.equal(recent.get('a'), accepted);
    const refused = Promise.reject(new Error('refused'));
    recent.remember('b', refused);
    await refused.catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(recent.get('b'), undefined);
  });

  it('keeps at most its capacity, forgetting the oldest key first', () => {
    const recent = new RecentPublishes(2);
    for (const key of ['a', 'b', 'c']) recent.remember(key, Promise.resolve({}));
    assert.deepEqual(
      ['a', 'b', 'c'].map((key) => recent.get(key) !== undefined),
      [false, true, true],
    );
    assert.equal(recent.size, 2);
  });
});
