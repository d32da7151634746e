import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it, mock } from 'node:test';
import type { PresenceEntry } from '@switchboard/protocol';
import { Redis } from 'ioredis';
import { createLogger } from '../../../src/log.js';
import type { PresenceSettings } from '../../../src/presence/config.js';
import { RedisPresenceStore } from '../../../src/presence/redis-store.js';
import {
  MemoryPresenceStore,
  type PresenceList,
  type PresenceStats,
  type PresenceStore,
} from '../../../src/presence/store.js';
import { PresenceTracker } from '../../../src/presence/tracker.js';
import { PresenceChange } from '../../../src/streams/presence-push.js';
import { type RedisService, startRedis } from '../../services/index.js';
import { sleep } from '../../support/wait.js';

const log = createLogger('silent');
const INTERVAL = 1_000;

/** A real store that lets a test wait until every call made to it has settled. */
class SettlingStore implements PresenceStore {
  private readonly calls = new Set<Promise<unknown>>();

  constructor(private readonly store: PresenceStore) {}

  private watch<T>(call: Promise<T>): Promise<T> {
    this.calls.add(call);
    void call.finally(() => this.calls.delete(call)).catch(() => undefined);
    return call;
  }

  add(channel: string, entries: readonly PresenceEntry[], ttlMs: number): Promise<PresenceEntry[]> {
    return this.watch(this.store.add(channel, entries, ttlMs));
  }
  remove(channel: string, clients: readonly string[]): Promise<PresenceEntry[]> {
    return this.watch(this.store.remove(channel, clients));
  }
  expire(channel: string): Promise<PresenceEntry[]> {
    return this.watch(this.store.expire(channel));
  }
  list(channel: string, limit: number): Promise<PresenceList> {
    return this.watch(this.store.list(channel, limit));
  }
  stats(channel: string): Promise<PresenceStats> {
    return this.watch(this.store.stats(channel));
  }
  close(): Promise<void> {
    return this.store.close();
  }

  /** Resolves once no call is in flight, including calls made by the callbacks of earlier ones. */
  async settled(): Promise<void> {
    do {
      await Promise.allSettled([...this.calls]);
      await new Promise((resolve) => setImmediate(resolve));
    } while (this.calls.size > 0);
  }
}

/** One hub's tracker, the pushes it sent through "the broker", and what it counted. */
class Hub {
  readonly pushes: Array<{ channel: string; change: PresenceChange }> = [];
  readonly counted = { pushed: 0, dropped: 0 };
  readonly tracker: PresenceTracker;

  constructor(
    readonly store: SettlingStore,
    settings: Partial<PresenceSettings> = {},
    pushes: (channel: string) => boolean = () => true,
  ) {
    this.tracker = new PresenceTracker(
      store,
      { ttlSeconds: 30, pushIntervalMs: INTERVAL, maxChangesPerPush: 200, maxListed: 10_000, ...settings },
      pushes,
      async (channel, change) => {
        this.pushes.push({ channel, change: PresenceChange.parse(JSON.parse(change)) });
      },
      {
        pushed: (changes) => {
          this.counted.pushed += changes;
        },
        dropped: (changes) => {
          this.counted.dropped += changes;
        },
      },
      log,
    );
  }

  /** Lets the store calls made so far finish, then lets `ms` pass on the trackers' interval timers. */
  async after(ms: number): Promise<void> {
    await this.store.settled();
    mock.timers.tick(ms);
    await this.store.settled();
  }

  /** The pushes, as `+client` for joins and `-client` for leaves. */
  seen(channel?: string): string[][] {
    return this.pushes
      .filter((push) => channel === undefined || push.channel === channel)
      .map(({ change }) => [
        ...(change.leave ?? []).map((entry) => `-${entry.c}`),
        ...(change.join ?? []).map((entry) => `+${entry.c}`),
      ]);
  }
}

let unique = 0;
const fresh = () => `room:t${process.pid}-${++unique}`;
const entry = (c: string, u?: string): PresenceEntry => (u === undefined ? { c } : { c, u });
const listed = async (store: PresenceStore, channel: string) =>
  (await store.list(channel, 100)).entries.map((e) => e.c).sort();

function trackerSpecification(name: string, createStore: () => PresenceStore): void {
  describe(`PresenceTracker on the ${name} presence store`, () => {
    let hubs: Hub[];
    const hub = (settings?: Partial<PresenceSettings>, pushes?: (channel: string) => boolean) => {
      const made = new Hub(new SettlingStore(createStore()), settings, pushes);
      made.tracker.start();
      hubs.push(made);
      return made;
    };
    beforeEach(() => {
      hubs = [];
      mock.timers.enable({ apis: ['setInterval'] });
    });
    afterEach(async () => {
      mock.timers.reset();
      for (const made of hubs) await made.tracker.stop();
    });

    it('writes joins to the store at once, and pushes them at the next interval', async () => {
      const a = hub();
      const channel = fresh();
      a.tracker.join(channel, entry('h.1', 'alice'));
      a.tracker.join(channel, entry('h.2'));
      await a.store.settled();
      assert.deepEqual(await listed(a.store, channel), ['h.1', 'h.2']);
      assert.deepEqual(a.pushes, []);
      await a.after(INTERVAL);
      assert.deepEqual(a.pushes, [{ channel, change: { join: [entry('h.1', 'alice'), entry('h.2')] } }]);
      assert.equal(a.counted.pushed, 2);
    });

    it('pushes nothing for a connection that joined and left within one interval', async () => {
      const a = hub();
      const channel = fresh();
      a.tracker.join(channel, entry('h.1'));
      a.tracker.leave(channel, 'h.1');
      await a.after(INTERVAL * 3);
      assert.deepEqual(a.pushes, []);
      assert.deepEqual(await listed(a.store, channel), []);
    });

    it('pushes nothing for a member that left and came back within one interval', async () => {
      const a = hub();
      const channel = fresh();
      a.tracker.join(channel, entry('h.1'));
      await a.after(INTERVAL);
      assert.deepEqual(a.seen(), [['+h.1']]);
      a.tracker.leave(channel, 'h.1');
      await a.store.settled();
      a.tracker.join(channel, entry('h.1'));
      await a.after(INTERVAL * 3);
      assert.deepEqual(a.seen(), [['+h.1']], 'no further push');
      assert.deepEqual(await listed(a.store, channel), ['h.1']);
    });

    it('pushes a member that came back within one interval showing something else as a leave and a join', async () => {
      const a = hub();
      const channel = fresh();
      a.tracker.join(channel, { c: 'h.1', i: 'before' });
      await a.after(INTERVAL);
      a.tracker.leave(channel, 'h.1');
      await a.store.settled();
      a.tracker.join(channel, { c: 'h.1', i: 'after' });
      await a.after(INTERVAL);
      assert.deepEqual(a.pushes[1]?.change, { leave: [{ c: 'h.1', i: 'before' }], join: [{ c: 'h.1', i: 'after' }] });
    });

    it('sends at most one push per channel per interval, however many members churn', async () => {
      const a = hub();
      const [busy, quiet] = [fresh(), fresh()];
      for (let i = 0; i < 50; i++) a.tracker.join(busy, entry(`b.${i}`));
      a.tracker.join(quiet, entry('q.1'));
      await a.store.settled();
      mock.timers.tick(INTERVAL / 2);
      for (let i = 0; i < 10; i++) a.tracker.leave(busy, `b.${i}`);
      await a.after(INTERVAL / 2);
      assert.equal(a.seen(busy).length, 1);
      assert.equal(a.seen(quiet).length, 1);
      assert.equal(a.seen(busy)[0]?.length, 40, 'the ten that left within the interval are in neither list');
      await a.after(INTERVAL * 3);
      assert.equal(a.pushes.length, 2, 'no changes, no pushes');
    });

    it('splits a burst into pushes of at most maxChangesPerPush, leaves first, one per interval', async () => {
      const a = hub({ maxChangesPerPush: 2 });
      const channel = fresh();
      for (const c of ['h.1', 'h.2', 'h.3']) a.tracker.join(channel, entry(c));
      await a.after(INTERVAL);
      await a.after(INTERVAL);
      assert.deepEqual(a.seen(), [['+h.1', '+h.2'], ['+h.3']]);
      a.tracker.join(channel, entry('h.4'));
      a.tracker.join(channel, entry('h.5'));
      a.tracker.leave(channel, 'h.1');
      a.tracker.leave(channel, 'h.2');
      a.tracker.leave(channel, 'h.3');
      await a.after(INTERVAL);
      assert.deepEqual(a.seen().slice(2), [['-h.1', '-h.2']]);
      await a.after(INTERVAL);
      await a.after(INTERVAL);
      assert.deepEqual(a.seen().slice(2), [['-h.1', '-h.2'], ['-h.3', '+h.4'], ['+h.5']]);
      assert.equal(a.counted.pushed, 8);
    });

    it('carries each entry as given: user and info', async () => {
      const a = hub();
      const channel = fresh();
      const shown = { c: 'h.1', u: 'alice', i: { name: 'Alice', colour: 'teal' } };
      a.tracker.join(channel, shown);
      a.tracker.join(channel, { c: 'h.2' });
      await a.after(INTERVAL);
      assert.deepEqual(a.pushes[0]?.change.join, [shown, { c: 'h.2' }]);
      assert.deepEqual(
        (await a.tracker.list(channel, 10)).entries.sort((x, y) => x.c.localeCompare(y.c)),
        [shown, { c: 'h.2' }],
      );
      assert.deepEqual(await a.tracker.stats(channel), { clients: 2, users: 1 });
    });

    it('keeps presence but pushes nothing in a namespace without joinLeave', async () => {
      const a = hub({}, () => false);
      const channel = fresh();
      a.tracker.join(channel, entry('h.1'));
      a.tracker.join(channel, entry('h.2'));
      a.tracker.leave(channel, 'h.1');
      await a.after(INTERVAL * 2);
      assert.deepEqual(a.pushes, []);
      assert.deepEqual(await listed(a.store, channel), ['h.2']);
    });

    it('ignores the leave of a connection it does not hold', async () => {
      const a = hub();
      const channel = fresh();
      a.tracker.leave(channel, 'never.1');
      await a.after(INTERVAL);
      assert.deepEqual(a.pushes, []);
    });

    it("refreshes its entries every third of the ttl, so they outlive it; a stopped hub's expire and the sweep pushes their leaves", async () => {
      // A 0.3 s ttl (the configuration allows 3 s at least) refreshed every 100 ms, in real time.
      const ttlSeconds = 0.3;
      const refreshMs = (ttlSeconds * 1000) / 3;
      const store = createStore();
      const alive = new Hub(new SettlingStore(store), { ttlSeconds });
      const dying = new Hub(new SettlingStore(store), { ttlSeconds });
      hubs.push(alive, dying);
      alive.tracker.start();
      dying.tracker.start();
      const channel = fresh();
      alive.tracker.join(channel, entry('alive.1'));
      dying.tracker.join(channel, entry('dying.1'));
      await alive.after(INTERVAL);
      await dying.after(0);
      // Resetting the mocked timers drops both hubs' timers: the dying hub stops refreshing without
      // leaving, as a killed hub does; the alive one starts again.
      mock.timers.reset();
      mock.timers.enable({ apis: ['setInterval'] });
      alive.tracker.start();
      for (let elapsed = 0; elapsed < ttlSeconds * 1000 * 2.5; elapsed += refreshMs) {
        await sleep(refreshMs);
        await alive.after(refreshMs);
      }
      assert.deepEqual(await listed(store, channel), ['alive.1']);
      await alive.after(INTERVAL);
      assert.deepEqual(alive.seen(), [['+alive.1'], ['-dying.1']]);
    });

    it('adds again, as a join, an entry of its own that the store lost', async () => {
      const a = hub({ ttlSeconds: 30 });
      const channel = fresh();
      a.tracker.join(channel, entry('h.1'));
      await a.after(INTERVAL);
      await a.store.remove(channel, ['h.1']);
      await a.after(10_000);
      assert.deepEqual(await listed(a.store, channel), ['h.1']);
      await a.after(INTERVAL);
      assert.deepEqual(a.seen(), [['+h.1'], ['+h.1']]);
    });

    it('on stop, removes the entries it still holds and pushes the leaves pending, with no timer left', async () => {
      const a = hub();
      const channel = fresh();
      a.tracker.join(channel, entry('h.1'));
      a.tracker.join(channel, entry('h.2'));
      await a.after(INTERVAL);
      a.tracker.leave(channel, 'h.1');
      await a.tracker.stop();
      assert.deepEqual(a.seen(), [
        ['+h.1', '+h.2'],
        ['-h.1', '-h.2'],
      ]);
      assert.deepEqual(await listed(a.store, channel), []);
      const pushes = a.pushes.length;
      await a.after(INTERVAL * 30);
      assert.equal(a.pushes.length, pushes);
    });

    it('a read that finds expired entries reports them as leaves', async () => {
      const store = createStore();
      const a = new Hub(new SettlingStore(store));
      hubs.push(a);
      a.tracker.start();
      const channel = fresh();
      // Another hub's entry, which that hub stopped refreshing, beside one of this hub's own.
      await store.add(channel, [entry('gone.1')], 50);
      a.tracker.join(channel, entry('here.1'));
      await a.after(INTERVAL);
      await sleep(120);
      assert.deepEqual((await a.tracker.list(channel, 10)).entries, [entry('here.1')]);
      await a.after(INTERVAL);
      assert.deepEqual(a.seen(), [['+here.1'], ['-gone.1']]);
    });
  });
}

trackerSpecification('memory', () => new MemoryPresenceStore());

describe('against a real redis-server', () => {
  let redis: RedisService;
  let connection: Redis;
  before(async () => {
    redis = await startRedis();
    connection = new Redis(redis.url);
  });
  after(async () => {
    connection.disconnect();
    await redis.destroy();
  });
  trackerSpecification('redis', () => new RedisPresenceStore(connection, 'sb:'));
});

describe('PresenceTracker bounds what waits for a push', () => {
  it('drops the oldest joins beyond 10,000 pending on one channel, and counts them', async () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      const a = new Hub(new SettlingStore(new MemoryPresenceStore()), { maxChangesPerPush: 10_000 });
      a.tracker.start();
      for (let i = 0; i < 10_005; i++) a.tracker.join('room:crowd', entry(`h.${i}`));
      await a.after(INTERVAL);
      assert.equal(a.counted.dropped, 5);
      const [push] = a.seen();
      assert.equal(push?.length, 10_000);
      assert.equal(push?.[0], '+h.5');
      await a.tracker.stop();
    } finally {
      mock.timers.reset();
    }
  });
});
