import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PresenceEntry } from '@switchboard/protocol';
import type { PresenceStore } from '../../../src/presence/store.js';
import { sleep } from '../../support/wait.js';

let unique = 0;
/** A channel no other test of the run uses, so suites can share one Redis. */
const fresh = () => `room:p${process.pid}-${++unique}`;
const ids = (entries: readonly PresenceEntry[]) => entries.map((entry) => entry.c).sort();
const TTL = 60_000;

/** What every presence store must do, whatever backs it. */
export function presenceStoreContract(name: string, create: () => Promise<PresenceStore>): void {
  describe(`${name} presence store contract`, () => {
    let store: PresenceStore;
    before(async () => {
      store = await create();
    });
    after(() => store.close());

    it('reports as joins only the entries that were not there, whoever adds them again', async () => {
      const channel = fresh();
      const a = { c: 'h1.1', u: 'alice', i: { name: 'Alice' } };
      assert.deepEqual(await store.add(channel, [a], TTL), [a]);
      assert.deepEqual(await store.add(channel, [a, { c: 'h2.1' }], TTL), [{ c: 'h2.1' }]);
      const { entries, more, expired } = await store.list(channel, 10);
      assert.deepEqual(ids(entries), ['h1.1', 'h2.1']);
      assert.equal(more, false);
      assert.deepEqual(expired, []);
      assert.deepEqual(
        entries.find((entry) => entry.c === 'h1.1'),
        a,
      );
    });

    it('reports as leaves only the entries that were there: two hubs removing one entry hear of it once', async () => {
      const channel = fresh();
      await store.add(channel, [{ c: 'x.1', u: 'bob' }], TTL);
      const [first, second] = await Promise.all([store.remove(channel, ['x.1']), store.remove(channel, ['x.1'])]);
      assert.deepEqual([...(first ?? []), ...(second ?? [])], [{ c: 'x.1', u: 'bob' }]);
      assert.deepEqual(await store.remove(channel, ['never']), []);
    });

    it('counts connections and distinct users; anonymous connections count as no user', async () => {
      const channel = fresh();
      await store.add(
        channel,
        [{ c: 'a.1', u: 'alice' }, { c: 'a.2', u: 'alice' }, { c: 'b.1', u: 'bob' }, { c: 'z.1' }],
        TTL,
      );
      assert.deepEqual(await store.stats(channel), { clients: 4, users: 2, expired: [] });
      await store.remove(channel, ['a.1']);
      assert.deepEqual(await store.stats(channel), { clients: 3, users: 2, expired: [] });
      await store.remove(channel, ['a.2']);
      assert.deepEqual(await store.stats(channel), { clients: 2, users: 1, expired: [] });
      assert.deepEqual(await store.stats(fresh()), { clients: 0, users: 0, expired: [] });
    });

    it('lists at most the limit and says there were more', async () => {
      const channel = fresh();
      await store.add(
        channel,
        Array.from({ length: 5 }, (_, i) => ({ c: `m.${i}` })),
        TTL,
      );
      const { entries, more } = await store.list(channel, 3);
      assert.equal(entries.length, 3);
      assert.equal(more, true);
    });

    it('entries nobody refreshes expire; the sweep, or a read, hands each to exactly one caller', async () => {
      const channel = fresh();
      await store.add(channel, [{ c: 'dead.1', u: 'carol' }, { c: 'dead.2' }], 150);
      await store.add(channel, [{ c: 'live.1' }], TTL);
      await sleep(250);
      const [swept, listed] = await Promise.all([store.expire(channel), store.list(channel, 10)]);
      assert.deepEqual(ids([...swept, ...listed.expired]), ['dead.1', 'dead.2']);
      assert.deepEqual(ids(listed.entries), ['live.1']);
      assert.deepEqual(await store.stats(channel), { clients: 1, users: 0, expired: [] });
    });

    it('a refresh keeps an entry alive past its first ttl', async () => {
      const channel = fresh();
      await store.add(channel, [{ c: 'kept.1' }], 200);
      await sleep(120);
      assert.deepEqual(await store.add(channel, [{ c: 'kept.1' }], 200), []);
      await sleep(120);
      assert.deepEqual(await store.expire(channel), []);
      assert.deepEqual(ids((await store.list(channel, 10)).entries), ['kept.1']);
    });
  });
}
