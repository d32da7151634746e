import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisUserStore } from '../../../src/cluster/redis-user-store.js';
import { MAX_SERVER_SUBSCRIPTIONS, MemoryUserStore, type UserStore } from '../../../src/cluster/user-store.js';
import { type RedisService, startRedis } from '../../services/index.js';
import { sleep } from '../../support/wait.js';

let unique = 0;
/** A user no other test of the run uses, so the suites can share one Redis. */
const fresh = (name: string) => `${name}-${process.pid}-${++unique}`;
const TTL = 60_000;
const HOUR = 3_600_000;

/** What every user store must do, whatever backs it. */
function userStoreContract(name: string, create: () => Promise<UserStore>): void {
  describe(`${name} user store contract`, () => {
    let store: UserStore;
    before(async () => {
      store = await create();
    });
    after(() => store.close());

    describe('connections per user', () => {
      it('admits up to the maximum, refuses the next, and admits again once one is released', async () => {
        const user = fresh('cap');
        for (const client of ['h.1', 'h.2', 'h.3'])
          assert.equal(await store.admitConnection(user, client, 3, TTL), true);
        assert.equal(await store.admitConnection(user, 'h.4', 3, TTL), false);
        await store.releaseConnection(user, 'h.2');
        assert.equal(await store.admitConnection(user, 'h.4', 3, TTL), true);
        assert.equal(await store.admitConnection(user, 'h.5', 3, TTL), false);
      });

      it('admits a connection already counted again, even at the maximum', async () => {
        const user = fresh('again');
        assert.equal(await store.admitConnection(user, 'h.1', 1, TTL), true);
        assert.equal(await store.admitConnection(user, 'h.1', 1, TTL), true);
        assert.equal(await store.admitConnection(user, 'h.2', 1, TTL), false);
      });

      it('counts each user on their own', async () => {
        const [alice, bob] = [fresh('alice'), fresh('bob')];
        assert.equal(await store.admitConnection(alice, 'h.1', 1, TTL), true);
        assert.equal(await store.admitConnection(bob, 'h.2', 1, TTL), true);
        assert.equal(await store.admitConnection(alice, 'h.3', 1, TTL), false);
      });

      it('releasing a connection that was never counted changes nothing', async () => {
        const user = fresh('stray');
        await store.releaseConnection(user, 'never.1');
        assert.equal(await store.admitConnection(user, 'h.1', 1, TTL), true);
        await store.releaseConnection(user, 'never.2');
        assert.equal(await store.admitConnection(user, 'h.2', 1, TTL), false);
      });

      it('stops counting a connection whose ttl passed without a refresh (its hub died)', async () => {
        const user = fresh('lapse');
        assert.equal(await store.admitConnection(user, 'dead.1', 1, 150), true);
        assert.equal(await store.admitConnection(user, 'live.1', 1, TTL), false);
        await sleep(250);
        assert.equal(await store.admitConnection(user, 'live.1', 1, TTL), true);
      });

      it('keeps counting a refreshed connection past its first ttl', async () => {
        const user = fresh('kept');
        assert.equal(await store.admitConnection(user, 'h.1', 1, 200), true);
        await sleep(120);
        await store.refreshConnections([[user, 'h.1']], 200);
        await sleep(120);
        assert.equal(await store.admitConnection(user, 'h.2', 1, TTL), false);
      });

      it('refreshes the connections of several users in one call', async () => {
        const [alice, bob] = [fresh('alice'), fresh('bob')];
        await store.admitConnection(alice, 'a.1', 2, 150);
        await store.admitConnection(alice, 'a.2', 2, 150);
        await store.admitConnection(bob, 'b.1', 1, 150);
        await store.refreshConnections(
          [
            [alice, 'a.1'],
            [alice, 'a.2'],
            [bob, 'b.1'],
          ],
          TTL,
        );
        await sleep(250);
        assert.equal(await store.admitConnection(alice, 'a.3', 2, TTL), false);
        assert.equal(await store.admitConnection(bob, 'b.2', 1, TTL), false);
      });
    });

    describe('server-side subscriptions', () => {
      it('adds, lists and removes; adding twice keeps one; removing says whether it was there', async () => {
        const user = fresh('subs');
        assert.deepEqual(await store.serverSubscriptions(user), []);
        await store.addServerSubscription(user, 'news:a');
        await store.addServerSubscription(user, 'news:b');
        await store.addServerSubscription(user, 'news:a');
        assert.deepEqual([...(await store.serverSubscriptions(user))].sort(), ['news:a', 'news:b']);
        assert.equal(await store.removeServerSubscription(user, 'news:a'), true);
        assert.equal(await store.removeServerSubscription(user, 'news:a'), false);
        assert.equal(await store.removeServerSubscription(fresh('nobody'), 'news:a'), false);
        assert.deepEqual(await store.serverSubscriptions(user), ['news:b']);
      });

      it(`refuses a subscription beyond ${MAX_SERVER_SUBSCRIPTIONS} per user with a RangeError, but not one already held`, async () => {
        const user = fresh('full');
        for (let i = 0; i < MAX_SERVER_SUBSCRIPTIONS; i++) await store.addServerSubscription(user, `c:${i}`);
        await assert.rejects(store.addServerSubscription(user, 'c:one-more'), RangeError);
        await store.addServerSubscription(user, 'c:0');
        assert.equal((await store.serverSubscriptions(user)).length, MAX_SERVER_SUBSCRIPTIONS);
      });
    });

    describe('revocations', () => {
      it('refuses a revoked token by its id, and no other', async () => {
        const user = fresh('jti');
        await store.revoke({ tokenId: 'jti-1' }, Date.now() + HOUR);
        assert.equal(await store.isRevoked({ user, tokenId: 'jti-1', issuedAt: Date.now() }), true);
        assert.equal(await store.isRevoked({ user: undefined, tokenId: 'jti-1', issuedAt: undefined }), true);
        assert.equal(await store.isRevoked({ user, tokenId: 'jti-2', issuedAt: 0 }), false);
        assert.equal(await store.isRevoked({ user, tokenId: undefined, issuedAt: 0 }), false);
      });

      it("refuses a user's tokens issued before the cut-off, and accepts those issued after", async () => {
        const user = fresh('iat');
        const cutoff = Date.now() - 60_000;
        await store.revoke({ user, issuedBefore: cutoff }, Date.now() + HOUR);
        assert.equal(await store.isRevoked({ user, tokenId: undefined, issuedAt: cutoff - 1_000 }), true);
        assert.equal(await store.isRevoked({ user, tokenId: undefined, issuedAt: cutoff }), false);
        assert.equal(await store.isRevoked({ user, tokenId: undefined, issuedAt: cutoff + 1_000 }), false);
        assert.equal(
          await store.isRevoked({ user, tokenId: undefined, issuedAt: undefined }),
          true,
          'a token without iat counts as issued at 0',
        );
        assert.equal(await store.isRevoked({ user: fresh('other'), tokenId: undefined, issuedAt: 0 }), false);
      });

      it('without a cut-off, refuses every token of the user issued until now', async () => {
        const user = fresh('now');
        const before = Date.now() - 1_000;
        await store.revoke({ user }, Date.now() + HOUR);
        assert.equal(await store.isRevoked({ user, tokenId: undefined, issuedAt: before }), true);
        assert.equal(await store.isRevoked({ user, tokenId: undefined, issuedAt: Date.now() + 60_000 }), false);
      });

      it('forgets a revocation once its `until` passed', async () => {
        const user = fresh('until');
        await store.revoke({ user, tokenId: 'jti-brief', issuedBefore: Date.now() }, Date.now() + 150);
        assert.equal(await store.isRevoked({ user, tokenId: 'jti-brief', issuedAt: 0 }), true);
        await sleep(250);
        assert.equal(await store.isRevoked({ user, tokenId: 'jti-brief', issuedAt: 0 }), false);
      });
    });
  });
}

userStoreContract('memory', async () => new MemoryUserStore());

describe('against a real redis-server', () => {
  let redis: RedisService;
  const connections: Redis[] = [];
  const connect = () => {
    const connection = new Redis(redis.url);
    connections.push(connection);
    return connection;
  };
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const connection of connections) connection.disconnect();
    await redis.destroy();
  });
  userStoreContract('redis', async () => new RedisUserStore(connect(), 'sb:'));

  describe('redis user store keys', () => {
    it('keeps server-side subscriptions for 30 days from the last change, and connection sets for their ttl', async () => {
      const inspect = connect();
      const store = new RedisUserStore(connect(), 'ttl:');
      await store.addServerSubscription('kept', 'news:a');
      const subscriptionTtl = await inspect.ttl('ttl:!s{kept}');
      assert.ok(subscriptionTtl > 30 * 24 * 3600 - 10 && subscriptionTtl <= 30 * 24 * 3600, String(subscriptionTtl));
      await store.admitConnection('kept', 'h.1', 2, 60_000);
      const connectionTtl = await inspect.pttl('ttl:!u{kept}');
      assert.ok(connectionTtl > 59_000 && connectionTtl <= 60_000, String(connectionTtl));
    });

    it("two stores on one Redis share one user's count, as two hubs do", async () => {
      const [a, b] = [new RedisUserStore(connect(), 'two:'), new RedisUserStore(connect(), 'two:')];
      assert.equal(await a.admitConnection('shared', 'ha.1', 2, TTL), true);
      assert.equal(await b.admitConnection('shared', 'hb.1', 2, TTL), true);
      assert.equal(await a.admitConnection('shared', 'ha.2', 2, TTL), false);
      await b.releaseConnection('shared', 'hb.1');
      assert.equal(await a.admitConnection('shared', 'ha.2', 2, TTL), true);
    });
  });
});
