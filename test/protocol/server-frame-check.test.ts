import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CommandType,
  ConnectResult,
  EmptyResult,
  PresenceResult,
  PresenceStatsResult,
  PublishResult,
  RefreshResult,
  RpcResult,
  resultProblem,
  ServerFrame,
  SubscribeResult,
  serverFrameProblem,
} from '@switchboard/protocol';
import fc from 'fast-check';
import { serverFrame } from './arbitraries.js';

/** Values of every type a key could wrongly hold, and the edges of the right ones. */
const odd = fc.constantFrom(
  undefined,
  null,
  true,
  '',
  'x',
  'x'.repeat(65),
  0,
  -1,
  1.5,
  2 ** 32,
  2 ** 53,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  [],
  {},
);
const keys = fc.constantFrom('t', 'id', 'r', 'code', 'msg', 'tmp', 'ch', 'ep', 'off', 'd', 'after', 'why', 'extra');

/** A valid value with one key deleted or replaced by an odd value. */
function mutated<T extends object>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.tuple(valid, keys, odd, fc.boolean()).map(([value, key, replacement, remove]) => {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    if (remove) delete copy[key];
    else copy[key] = replacement;
    return copy;
  });
}

describe('hand-checked hub frames (serverFrameProblem)', () => {
  it('accepts every valid hub frame', () => {
    fc.assert(
      fc.property(serverFrame, (frame) => assert.equal(serverFrameProblem(frame), undefined)),
      { numRuns: 2000 },
    );
  });

  it('gives the verdict of the ServerFrame schema on frames with a key missing or of another type', () => {
    fc.assert(
      fc.property(mutated(serverFrame), (value) => {
        const problem = serverFrameProblem(value);
        assert.equal(
          problem === undefined,
          ServerFrame.safeParse(value).success,
          `${problem}: ${JSON.stringify(value)}`,
        );
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses what is not a frame at all', () => {
    for (const value of [null, undefined, 1, 'ok', [], [{ t: 'ok', id: 1 }], { t: 'pong', id: 1 }]) {
      assert.notEqual(serverFrameProblem(value), undefined, JSON.stringify(value));
    }
  });
});

describe('hand-checked ok results (resultProblem)', () => {
  const schemas: Record<CommandType, { safeParse(value: unknown): { success: boolean } }> = {
    connect: ConnectResult,
    sub: SubscribeResult,
    unsub: EmptyResult,
    pub: PublishResult,
    refresh: RefreshResult,
    ping: EmptyResult,
    presence: PresenceResult,
    presence_stats: PresenceStatsResult,
    rpc: RpcResult,
  };
  const result = fc.record(
    {
      client: fc.uuid(),
      node: fc.string(),
      v: fc.constant(1),
      ping: fc.integer({ min: 1, max: 60 }),
      maxFrame: fc.integer({ min: 1, max: 2 ** 24 }),
      exp: fc.maxSafeNat(),
      ep: fc.string(),
      off: fc.maxSafeNat(),
      rec: fc.boolean(),
      why: fc.string(),
      d: fc.jsonValue(),
    },
    { requiredKeys: [], noNullPrototype: true },
  );
  const resultKeys = fc.constantFrom('client', 'node', 'v', 'ping', 'maxFrame', 'exp', 'ep', 'off', 'rec', 'why', 'd');
  const command = fc.constantFrom<CommandType>('connect', 'sub', 'unsub', 'pub', 'refresh', 'ping', 'rpc');

  it('gives the verdict of each command’s result schema', () => {
    fc.assert(
      fc.property(command, result, resultKeys, odd, fc.boolean(), (t, value, key, replacement, mutate) => {
        const checked: Record<string, unknown> = { ...value };
        if (mutate) checked[key] = replacement;
        const problem = resultProblem(t, checked);
        assert.equal(problem === undefined, schemas[t].safeParse(checked).success, `${t} ${problem}`);
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses a result that is not an object', () => {
    for (const value of [null, 1, 'x', []]) assert.notEqual(resultProblem('ping', value), undefined);
  });
});
