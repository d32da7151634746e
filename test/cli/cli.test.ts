import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../services/ports.js';
import { CLI, run } from '../support/cli.js';
import { type HubProcess, spawnHub } from '../support/hub-process.js';
import { waitFor } from '../support/wait.js';

/** Starts a long-running CLI command whose stdout lines a test can read as they come. */
function start(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; lines: string[]; stderr: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
  const lines: string[] = [];
  let pending = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return { child, lines, stderr: () => stderr };
}

describe('switchboard CLI', () => {
  let hub: HubProcess;
  before(async () => {
    hub = await spawnHub({});
  });
  after(() => hub.process.stop());

  it('sub prints each publication of its channels as one JSON line, and nothing for the others', async () => {
    const env = { PORT: String(hub.port) };
    const subscriber = start(['sub', 'news', 'sport'], env);
    await waitFor(() => (subscriber.stderr().match(/subscribed to/g) ?? []).length === 2, 'both subscriptions', 10_000);
    const published = await run(['pub', 'news', '{"hello":1}'], env);
    assert.equal(published.code, 0, published.stderr);
    const ack = JSON.parse(published.stdout) as { channel: string; epoch: string; offset: number };
    assert.equal(ack.channel, 'news');
    assert.equal(ack.offset, 1);
    const other = await run(['pub', 'weather', '{"rain":true}'], env);
    assert.equal(other.code, 0, other.stderr);
    const http = await fetch(`${hub.http}/api/publish`, { method: 'POST', body: '{"channel":"sport","data":2}' });
    assert.equal(http.status, 200);
    await waitFor(() => subscriber.lines.length >= 2, 'two lines from sub', 10_000);
    const printed = subscriber.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(printed, [
      { channel: 'news', epoch: ack.epoch, offset: 1, data: { hello: 1 } },
      { channel: 'sport', epoch: printed[1]?.epoch, offset: 1, data: 2 },
    ]);
    subscriber.child.kill('SIGINT');
    const [code] = (await once(subscriber.child, 'exit')) as [number | null];
    assert.equal(code, 0);
    assert.match(subscriber.stderr(), /^switchboard sub: subscribed to news at [\w-]+:0\n/);
  });

  it('sub --since prints the missed publications, then live ones, and says when it could not recover', async () => {
    const env = { PORT: String(hub.port) };
    const acks = [];
    for (const n of [1, 2, 3])
      acks.push(JSON.parse((await run(['pub', 'resume', String(n)], env)).stdout) as { epoch: string });
    const epoch = acks[0]?.epoch;
    const resumed = start(['sub', 'resume', '--since', `${epoch}:1`], env);
    await waitFor(() => resumed.lines.length === 2, 'the two missed publications', 10_000);
    await run(['pub', 'resume', '4'], env);
    await waitFor(() => resumed.lines.length === 3, 'the live one', 10_000);
    assert.deepEqual(
      resumed.lines.map((line) => (JSON.parse(line) as { offset: number; data: number }).data),
      [2, 3, 4],
    );
    assert.match(resumed.stderr(), /subscribed to resume at .+:3, missed publications recovered/);
    resumed.child.kill('SIGINT');
    // An epoch this channel no longer has: the loss is reported, and the current epoch, whole in
    // history, follows from its first publication, so nothing published since is missed.
    const lost = start(['sub', 'resume', '--since', 'gone:1'], env);
    try {
      await waitFor(() => /NOT recovered/.test(lost.stderr()) && lost.lines.length === 4, 'the report', 10_000);
      assert.match(lost.stderr(), /NOT recovered \(epoch_changed\): publications were missed/);
      assert.deepEqual(
        lost.lines.map((line) => (JSON.parse(line) as { data: number }).data),
        [1, 2, 3, 4],
      );
    } finally {
      lost.child.kill('SIGINT');
    }
    const malformed = await run(['sub', 'resume', '--since', 'nonsense'], env);
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /--since takes EPOCH:OFFSET/);
  });

  it('pub reports a refused publish on stderr with the code and exits 1', async () => {
    const result = await run(['pub', 'bad channel', '1', '--url', hub.url]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /invalid channel name \(code 107\)/);
  });

  it('pub fails within a second, naming the URL, when nothing listens there', async () => {
    const url = `ws://127.0.0.1:${await freePort()}/ws`;
    const started = Date.now();
    const result = await run(['pub', 'news', '1', '--url', url]);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `switchboard pub: cannot connect to ${url}: connection refused (nothing listens on ${new URL(url).host})\n`,
    );
    assert.ok(Date.now() - started < 1_000, `took ${Date.now() - started} ms`);
  });

  it('pub names the WebSocket path when the URL lacks it, at once', async () => {
    const url = `ws://127.0.0.1:${hub.port}`;
    const started = Date.now();
    const result = await run(['pub', 'news', '1', '--url', url]);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `switchboard pub: ${url} answered HTTP 404 Not Found instead of a WebSocket: the hub's WebSocket path is /ws (--url ${url}/ws)\n`,
    );
    assert.ok(Date.now() - started < 1_000, `took ${Date.now() - started} ms`);
  });

  it('sub exits 1 at once when the hub cannot be reached', async () => {
    const url = `ws://127.0.0.1:${await freePort()}/ws`;
    const result = await run(['sub', 'news', '--url', url]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^switchboard sub: cannot connect to .+: connection refused .+\n$/);
  });

  it('pub takes a negative number as the JSON value, not as an option', async () => {
    const result = await run(['pub', 'numbers', '-1.5', '--url', hub.url]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { channel: string }).channel, 'numbers');
  });

  it('pub refuses an argument that is not JSON with exit code 2 and its usage', async () => {
    const result = await run(['pub', 'news', '{oops', '--url', hub.url]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /not valid JSON: \{oops/);
    assert.match(result.stderr, /Usage: switchboard pub CHANNEL JSON/);
  });

  it('explains every command with --help', async () => {
    for (const command of ['serve', 'sub', 'pub', 'rpc', 'token']) {
      const result = await run([command, '--help']);
      assert.equal(result.code, 0);
      assert.match(result.stdout, new RegExp(`Usage: switchboard ${command}`));
    }
    const top = await run(['--help']);
    assert.match(top.stdout, /Commands:/);
  });

  it('names an unknown command and exits 2', async () => {
    const result = await run(['launch']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown command: launch/);
  });

  it('serve exits 2 and names the key of an invalid configuration', async () => {
    const result = await run(['serve'], { SWITCHBOARD_LIMITS__MAX_FRAME_BYTES: '"lots"', PORT: '0' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /limits\.maxFrameBytes: /);
  });

  it('serve refuses the pure-JS transport fallback unless allowed, with exit code 3', async () => {
    const result = await run(['serve'], { UWS_USE_FALLBACK: '1', PORT: '0' });
    assert.equal(result.code, 3);
    assert.match(result.stderr, /fell back to a slow pure-JS server/);
  });
});
