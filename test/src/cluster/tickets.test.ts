import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { MemoryTicketStore, RedisTicketStore, TICKET_PATTERN, type TicketStore } from '../../../src/cluster/tickets.js';
import { type RedisService, startRedis } from '../../services/index.js';
import { sleep } from '../../support/wait.js';

/** What every ticket store must do, whatever backs it. */
function ticketContract(name: string, create: () => TicketStore): void {
  describe(`${name} ticket store`, () => {
    let store: TicketStore;
    before(() => {
      store = create();
    });
    after(() => store.close());

    it('issues an unguessable ticket of the documented shape for a value', async () => {
      const tickets = await Promise.all(Array.from({ length: 50 }, () => store.issue('v', 10_000)));
      assert.equal(new Set(tickets).size, 50);
      for (const ticket of tickets) assert.match(ticket, TICKET_PATTERN);
    });

    it('gives the value back once: a second take finds nothing', async () => {
      const ticket = await store.issue('{"t":"connect","id":1}', 10_000);
      assert.equal(await store.take(ticket), '{"t":"connect","id":1}');
      assert.equal(await store.take(ticket), undefined);
    });

    it('forgets a ticket once its time is up', async () => {
      const ticket = await store.issue('late', 30);
      await sleep(80);
      assert.equal(await store.take(ticket), undefined);
    });

    it('knows no ticket it did not issue', async () => {
      assert.equal(await store.take('A'.repeat(24)), undefined);
    });
  });
}

ticketContract('memory', () => new MemoryTicketStore());

describe('redis tickets', () => {
  let redis: RedisService;
  const connections: Redis[] = [];
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const connection of connections) connection.disconnect();
    await redis.destroy();
  });
  const connect = () => {
    const connection = new Redis(redis.url);
    connections.push(connection);
    return connection;
  };

  ticketContract('redis', () => new RedisTicketStore(connect(), 'sb:'));
});
