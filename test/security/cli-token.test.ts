import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ErrorCode } from '@switchboard/protocol';
import { decodeJwt } from 'jose';
import { type HubProcess, spawnHub } from '../support/hub-process.js';
import { waitFor } from '../support/wait.js';

const CLI = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));
const SECRET = 'cli-test-secret-of-more-than-32-characters';

function start(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child: ChildProcess = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
  const out = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk: Buffer) => {
    out.stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    out.stderr += chunk.toString();
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, out, exited };
}

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const { out, exited } = start(args, env);
  const code = await exited;
  return { code, ...out };
}

describe('switchboard token, then sub with it against an authenticating hub', () => {
  let hub: HubProcess;
  let token: string;
  before(async () => {
    hub = await spawnHub({ auth: { keys: [{ alg: 'HS256', secret: SECRET }] }, namespaces: { orders: {}, admin: {} } });
    const minted = await run(['token', '--sub', 'alice', '--channels', 'orders:*', '--secret', SECRET, '--ttl', '600']);
    assert.equal(minted.code, 0, minted.stderr);
    token = minted.stdout.trim();
  });
  after(() => hub.process.stop());

  it('mints an HS256 token with sub, channels and exp', () => {
    const claims = decodeJwt(token);
    assert.equal(claims.sub, 'alice');
    assert.deepEqual(claims.channels, ['orders:*']);
    const ttl = (claims.exp ?? 0) - Math.floor(Date.now() / 1000);
    assert.ok(ttl > 590 && ttl <= 600, `ttl ${ttl}`);
  });

  it('sub orders:1 --token receives what is published there', async () => {
    const subscriber = start(['sub', 'orders:1', '--url', hub.url, '--token', token]);
    await waitFor(() => /subscribed to orders:1/.test(subscriber.out.stderr), 'the subscription', 10_000);
    const response = await fetch(`${hub.http}/api/publish`, {
      method: 'POST',
      body: JSON.stringify({ channel: 'orders:1', data: { total: 42 } }),
    });
    assert.equal(response.status, 200);
    await waitFor(() => subscriber.out.stdout.includes('\n'), 'the publication line', 10_000);
    assert.deepEqual((JSON.parse(subscriber.out.stdout.trim()) as { data: unknown }).data, { total: 42 });
    subscriber.child.kill('SIGINT');
    assert.equal(await subscriber.exited, 0);
  });

  it(`sub admin:1 --token is refused with code ${ErrorCode.PERMISSION_DENIED} and exits 1`, async () => {
    const result = await run(['sub', 'admin:1', '--url', hub.url, '--token', token]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /admin:1: not allowed to subscribe to admin:1 \(code 103\)/);
  });

  it(`sub without a token is refused with code ${ErrorCode.UNAUTHORIZED}`, async () => {
    const result = await run(['sub', 'orders:1', '--url', hub.url]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /code 101/);
  });

  it('pub needs a publish grant', async () => {
    const refused = await run(['pub', 'orders:1', '1', '--url', hub.url, '--token', token]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not allowed to publish to orders:1 \(code 103\)/);
    const writer = (await run(['token', '--sub', 'svc', '--publish', 'orders:*', '--secret', SECRET])).stdout.trim();
    const published = await run(['pub', 'orders:1', '1', '--url', hub.url, '--token', writer]);
    assert.equal(published.code, 0, published.stderr);
  });

  it('token refuses a short secret and explains itself', async () => {
    const short = await run(['token', '--sub', 'alice', '--secret', 'short']);
    assert.equal(short.code, 2);
    assert.match(short.stderr, /at least 32 characters/);
    const help = await run(['token', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: switchboard token/);
    const fromEnv = await run(['token', '--sub', 'bob'], { SWITCHBOARD_TOKEN_SECRET: SECRET });
    assert.equal(decodeJwt(fromEnv.stdout.trim()).sub, 'bob');
  });
});
