import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../../client-sdk/src/backoff.js';

/** A random source that always returns just under 1, so each delay shows its cap. */
const top = () => 0.999_999;

describe('Backoff', () => {
  it('doubles the cap per attempt up to the maximum', () => {
    const backoff = new Backoff(100, 1_000, top);
    assert.deepEqual(
      Array.from({ length: 6 }, () => backoff.next()),
      [99, 199, 399, 799, 999, 999],
    );
  });

  it('draws each delay uniformly below the cap (full jitter)', () => {
    const draws = [0, 0.5, 0.25];
    const backoff = new Backoff(100, 1_000, () => draws.shift() ?? 0);
    assert.deepEqual([backoff.next(), backoff.next(), backoff.next()], [0, 100, 100]);
  });

  it('starts over after a reset', () => {
    const backoff = new Backoff(100, 1_000, top);
    backoff.next();
    backoff.next();
    backoff.reset();
    assert.equal(backoff.next(), 99);
  });

  it('stays at the maximum however many attempts fail', () => {
    const backoff = new Backoff(1, 10_000, top);
    for (let i = 0; i < 5_000; i++) backoff.next();
    assert.equal(backoff.next(), 9_999);
  });

  it('refuses bounds that make no sense', () => {
    assert.throws(() => new Backoff(0, 100), RangeError);
    assert.throws(() => new Backoff(200, 100), RangeError);
    assert.throws(() => new Backoff(Number.NaN, 100), RangeError);
  });
});
