import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type ConnectResult, ErrorCode, SUBPROTOCOLS } from '@switchboard/protocol';
import WebSocket from 'ws';
import { startHub, type TestHub } from '../../support/hub.js';
import { RawClient } from '../../support/raw-client.js';
import { waitFor } from '../../support/wait.js';

type Body = Record<string, unknown>;

/** The team's backend: answers each hook as `answer` says, and records what it was asked. */
class Backend {
  readonly asked: Array<{ hook: string; body: Body }> = [];
  /** Connects of user `slow` wait here until the test releases them. */
  readonly held: Array<() => void> = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const hook = request.url?.slice(1) ?? '';
    const body = JSON.parse(Buffer.concat(chunks).toString()) as Body;
    this.asked.push({ hook, body });
    const user = body.token;
    if (hook === 'connect' && user === 'slow') await new Promise<void>((resolve) => this.held.push(resolve));
    const answer = this.answer(hook, body, user);
    if (answer === 'broken') {
      response.writeHead(500).end('boom');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  }

  private answer(hook: string, body: Body, user: unknown): object | 'broken' {
    if (hook === 'connect') {
      if (user === 'mallory') return { deny: { code: 4403, reason: 'banned' } };
      if (user === 'broken') return 'broken';
      if (user === 'huge') return { allow: { user: 'huge', meta: 'x'.repeat(100_000) } };
      return { allow: { user, channels: [`inbox:${String(user)}`], meta: { plan: 'gold' } } };
    }
    if (hook === 'subscribe')
      return body.channel === 'secret:1' ? { deny: { code: 1403, reason: 'not your channel' } } : { allow: {} };
    if (hook === 'publish')
      return body.channel === 'readonly:1' ? { deny: { code: 1405, reason: 'read only' } } : { allow: {} };
    if (hook === 'rpc') return { data: { echo: body.data, user: body.user } };
    return 'broken';
  }
}

/** A raw connection whose connect frame carries `token` (the backend reads it as the user). */
async function connectAs(hub: TestHub, token: string) {
  const client = await RawClient.open(hub.url);
  const reply = await client.request({ t: 'connect', token });
  return { client, reply };
}

describe('proxy hooks', () => {
  const backend = new Backend();
  let hub: TestHub;
  before(async () => {
    await backend.start();
    const hook = (name: string) => ({ url: `${backend.url}/${name}`, timeoutMs: 10_000, maxResponseBytes: 4_096 });
    hub = await startHub({
      proxy: {
        connect: hook('connect'),
        subscribe: hook('subscribe'),
        publish: hook('publish'),
        rpc: hook('rpc'),
        forwardHeaders: ['x-team'],
        forwardCookies: ['session'],
      },
    });
  });
  after(async () => {
    await hub?.stop();
    await backend.stop();
  });

  it('closes a connection the connect backend denies with the backend’s code, after err 103', async () => {
    const { client, reply } = await connectAs(hub, 'mallory');
    assert.deepEqual(reply.t === 'err' && [reply.code, reply.msg], [ErrorCode.PERMISSION_DENIED, 'banned']);
    assert.deepEqual(await client.waitClosed(), { code: 4403, reason: 'banned' });
  });

  it('admits an allowed user, subscribes the channels the backend names, and sends later hooks what it attached', async () => {
    const { client, reply } = await connectAs(hub, 'alice');
    const result = (reply.t === 'ok' ? reply.r : undefined) as ConnectResult;
    assert.deepEqual(result.subs, ['inbox:alice']);
    // Joined through the session like any server-side subscription: a `subd` push follows the reply.
    await waitFor(
      () => client.frames.some((frame) => frame.t === 'subd' && frame.ch === 'inbox:alice'),
      'the subd push',
    );
    await client.ok({ t: 'pub', ch: 'inbox:alice', d: { hi: 1 } });
    await waitFor(() => client.publications('inbox:alice').length === 1, 'the inbox publication');
    const publish = backend.asked.findLast((a) => a.hook === 'publish');
    assert.deepEqual([publish?.body.user, publish?.body.meta], ['alice', { plan: 'gold' }]);
    client.close();
  });

  it('forwards only the configured headers and cookies of the upgrade to the connect backend', async () => {
    const client = await new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(hub.url, SUBPROTOCOLS.json, {
        headers: { 'x-team': 'blue', 'x-other': 'no', cookie: 'theme=dark; session=s3cr3t' },
      });
      ws.once('open', () => resolve(ws)).once('error', reject);
    });
    client.send(JSON.stringify({ t: 'connect', id: 1, token: 'bob' }));
    await waitFor(() => backend.asked.some((a) => a.body.token === 'bob'), 'the connect hook call');
    const asked = backend.asked.find((a) => a.body.token === 'bob');
    assert.deepEqual([asked?.body.headers, asked?.body.cookies], [{ 'x-team': 'blue' }, { session: 's3cr3t' }]);
    client.close();
  });

  it('refuses with an application code what the subscribe and publish backends deny', async () => {
    const { client } = await connectAs(hub, 'carol');
    const sub = await client.request({ t: 'sub', ch: 'secret:1' });
    assert.deepEqual(sub.t === 'err' && [sub.code, sub.msg], [1403, 'not your channel']);
    const pub = await client.request({ t: 'pub', ch: 'readonly:1', d: 1 });
    assert.deepEqual(pub.t === 'err' && [pub.code, pub.msg], [1405, 'read only']);
    assert.equal((await client.request({ t: 'sub', ch: 'open:1' })).t, 'ok');
    client.close();
  });

  it('answers 119 when the backend fails or answers more than its limit, and stays up', async () => {
    for (const user of ['broken', 'huge']) {
      const { client, reply } = await connectAs(hub, user);
      assert.deepEqual(reply.t === 'err' && [reply.code, reply.tmp], [ErrorCode.BACKEND_UNAVAILABLE, true], user);
      client.close();
    }
    const { client, reply } = await connectAs(hub, 'dave');
    assert.equal(reply.t, 'ok');
    client.close();
  });

  it('lets a slow backend delay only the connections waiting on it', async () => {
    const slow = await RawClient.open(hub.url);
    slow.send({ t: 'connect', id: 1, token: 'slow' });
    await waitFor(() => backend.held.length === 1, 'the slow connect to reach the backend');
    const others = await Promise.all(Array.from({ length: 20 }, (_, i) => connectAs(hub, `user${i}`)));
    assert.ok(
      others.every(({ reply }) => reply.t === 'ok'),
      'every other connection was admitted meanwhile',
    );
    assert.equal(slow.frames.length, 0, 'the slow connection is still waiting');
    for (const release of backend.held.splice(0)) release();
    await waitFor(() => slow.frames.some((f) => f.t === 'ok'), 'the slow connect to complete');
    for (const { client } of [...others, { client: slow }]) client.close();
  });

  it('answers every rpc method no route names through the rpc hook', async () => {
    const { client } = await connectAs(hub, 'erin');
    assert.deepEqual(await client.ok({ t: 'rpc', method: 'anything.at.all', d: [1, 2] }), {
      d: { echo: [1, 2], user: 'erin' },
    });
    client.close();
  });
});
