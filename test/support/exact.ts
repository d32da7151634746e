import assert from 'node:assert/strict';
import type { Delivery, Fleet } from './fleet.js';

/** `count` channel names `prefix:0` … */
export const channelsOf = (prefix: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `${prefix}:${i}`);

/**
 * Waits until every subscriber received every `expected` publication (or `timeoutMs` passed),
 * prints the counts, and asserts that none was lost, doubled or reordered.
 */
export async function assertExact(
  name: string,
  fleet: Fleet,
  expected: ReadonlyMap<string, readonly number[]>,
  timeoutMs = 30_000,
): Promise<Delivery & { delivered: number }> {
  await fleet.received(expected, timeoutMs).catch(() => undefined);
  const total = fleet.total(expected);
  let published = 0;
  for (const seqs of expected.values()) published += seqs.length;
  console.log(
    `chaos ${name}: published ${published}, delivered ${total.delivered}, lost ${total.lost}, duplicated ${total.duplicated}, out of order ${total.outOfOrder}`,
  );
  assert.deepEqual(
    { lost: total.lost, duplicated: total.duplicated, outOfOrder: total.outOfOrder },
    { lost: 0, duplicated: 0, outOfOrder: 0 },
  );
  return total;
}
