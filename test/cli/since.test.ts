/**
 * Positions as the CLI prints them are accepted back as they are: `sub CH --since EPOCH:OFFSET`
 * resumes right after the position, whatever the epoch (8 characters of base64url, so about 1 in
 * 64 starts with `-`, which an option parser would take for an option).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { RedisKeys } from '../../src/brokers/redis-keys.js';
import { formatPosition, readSubCommand } from '../../src/cli/sub.js';
import { useRedisHub } from '../support/redis-hub.js';
import { waitFor } from '../support/wait.js';

const CLI = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** An epoch as the hub makes them (src/brokers/epoch.ts): 6 random bytes in base64url. */
const epoch = fc.string({ unit: fc.constantFrom(...BASE64URL), minLength: 8, maxLength: 8 });
const offset = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

describe('sub --since reads back the positions the CLI prints', () => {
  it('parses every printed position to itself, with the option before or after the channel', () => {
    fc.assert(
      fc.property(epoch, offset, (ep, off) => {
        const printed = formatPosition({ ep, off });
        assert.deepEqual(readSubCommand(['orders', '--since', printed]).since, { ep, off });
        assert.deepEqual(readSubCommand(['--since', printed, 'orders']).channels, ['orders']);
        assert.deepEqual(readSubCommand([`--since=${printed}`, 'orders']).since, { ep, off });
      }),
      {
        numRuns: 2_000,
        examples: [
          ['-q8LV-fl', 2],
          ['--------', 0],
          ['_-_-_-_-', 9],
        ],
      },
    );
  });

  describe('against a hub on Redis, whose epochs the test chooses', () => {
    const fixture = useRedisHub();
    let redis: Redis;
    let run = 0;
    const children: ChildProcess[] = [];
    before(() => {
      redis = new Redis(fixture.redis.url);
    });
    after(() => {
      for (const child of children) child.kill('SIGKILL');
      redis.disconnect();
    });

    it('resumes right after any position the hub hands out', { timeout: 120_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(epoch, fc.integer({ min: 2, max: 5 }), fc.nat(), async (ep, count, pick) => {
          run += 1;
          const channel = `since${run}`;
          // A channel without meta gets its epoch from the broker's script; set first, it is kept.
          await redis.hset(new RedisKeys('sb:').meta(channel), 'e', ep, 'o', '0');
          const acks: { epoch: string; offset: number }[] = [];
          for (let n = 1; n <= count; n += 1) {
            const response = await fetch(`${fixture.hub.http}/api/publish`, {
              method: 'POST',
              body: JSON.stringify({ channel, data: n }),
            });
            acks.push((await response.json()) as { epoch: string; offset: number });
          }
          const after = acks[pick % (count - 1)] as { epoch: string; offset: number };
          assert.equal(after.epoch, ep);
          const printed = formatPosition({ ep: after.epoch, off: after.offset });
          const child = spawn(process.execPath, [CLI, 'sub', channel, '--since', printed, '--url', fixture.hub.url]);
          children.push(child);
          const lines: string[] = [];
          let stderr = '';
          child.stdout.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
          child.stderr.on('data', (chunk: Buffer) => {
            stderr += chunk.toString();
          });
          await waitFor(() => lines.length >= count - after.offset, `the publications after ${printed}`, 10_000);
          child.kill('SIGINT');
          await once(child, 'exit');
          assert.match(stderr, /missed publications recovered/);
          assert.deepEqual(
            lines.map((line) => (JSON.parse(line) as { offset: number }).offset),
            acks.slice(after.offset).map((ack) => ack.offset),
          );
        }),
        { numRuns: 6, examples: [['-q8LV-fl', 3, 0]] },
      );
    });
  });
});
