/**
 * The tab's side of a shared connection (client-sdk/src/port-link.ts), against a SharedWorker
 * the test plays over real MessageChannels.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Client, type ClientEvents, portLink } from '../../client-sdk/src/index.js';
import type { PortLike, TabMessage, WorkerMessage } from '../../client-sdk/src/tab-protocol.js';
import { waitFor } from '../support/wait.js';
import { CONNECT_RESULT } from './scripted-hub.js';

const PING_MS = 20;

/** The worker's end of each port the tab opened, with what the tab said on it. */
class FakeWorker {
  readonly ports: Array<{ port: PortLike; heard: TabMessage[] }> = [];
  /** Answers every `connect` with CONNECT_RESULT, as the worker does while connected. */
  answerConnect = true;

  readonly openPort = (): PortLike => {
    const { port1, port2 } = new MessageChannel();
    const worker = port2 as unknown as PortLike;
    const entry = { port: worker, heard: [] as TabMessage[] };
    worker.onmessage = (event) => {
      const message = event.data as TabMessage;
      entry.heard.push(message);
      if (message.t === 'open') this.post(entry.port, { t: 'open', s: message.s });
      if (message.t === 'frame' && message.f.t === 'connect' && this.answerConnect) {
        this.post(entry.port, { t: 'frame', s: message.s, f: { t: 'ok', id: message.f.id, r: CONNECT_RESULT } });
      }
    };
    this.ports.push(entry);
    return port1 as unknown as PortLike;
  };

  post(port: PortLike, message: WorkerMessage): void {
    port.postMessage(message);
  }

  last() {
    const entry = this.ports.at(-1);
    assert.ok(entry, 'no port was opened');
    return entry;
  }

  close(): void {
    for (const { port } of this.ports) port.close();
  }
}

describe('a tab’s link to the SharedWorker', () => {
  const clients: Client[] = [];
  const workers: FakeWorker[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
    for (const worker of workers.splice(0)) worker.close();
  });

  function tab(token?: () => Promise<string>) {
    const worker = new FakeWorker();
    workers.push(worker);
    const link = portLink({ openPort: worker.openPort, host: { name: 'demo' }, token, pingMs: PING_MS });
    const client = new Client('ws://hub/ws', { link, backoff: { initialMs: 1, maxMs: 2 } });
    clients.push(client);
    return { client, worker };
  }

  const next = <K extends keyof ClientEvents>(client: Client, event: K) =>
    new Promise<ClientEvents[K]>((resolve) => {
      const off = client.on(event, (value) => {
        off();
        resolve(value);
      });
    });

  it('opens a session for the URL with the worker Client’s options, and connects through it', async () => {
    const { client, worker } = tab();
    client.connect();
    assert.deepEqual(await next(client, 'connected'), CONNECT_RESULT);
    const [open, connect] = worker.last().heard;
    assert.deepEqual(open, { t: 'open', s: 1, url: 'ws://hub/ws', options: { name: 'demo' } });
    assert.deepEqual(connect, { t: 'frame', s: 1, f: { t: 'connect', id: 1 } });
  });

  it('answers the worker’s pings', async () => {
    const { client, worker } = tab();
    client.connect();
    await next(client, 'connected');
    worker.post(worker.last().port, { t: 'ping' });
    await waitFor(() => worker.last().heard.some((message) => message.t === 'pong'), 'a pong');
  });

  it('when the worker ends the session, connects again at once over the same port', async () => {
    const { client, worker } = tab();
    client.connect();
    await next(client, 'connected');
    const disconnected = next(client, 'disconnected');
    worker.post(worker.last().port, { t: 'close', s: 1, code: 1006, reason: 'hub lost' });
    assert.deepEqual(await disconnected, { code: 1006, reason: 'hub lost', reconnect: true });
    await next(client, 'connected');
    assert.equal(worker.ports.length, 1);
    assert.deepEqual(
      worker
        .last()
        .heard.filter((message) => message.t === 'open')
        .map((message) => message.t === 'open' && message.s),
      [1, 2],
    );
  });

  it('closed for good by the worker, says goodbye and lets the port go', async () => {
    const { client, worker } = tab();
    client.connect();
    await next(client, 'connected');
    worker.post(worker.last().port, { t: 'close', s: 1, code: 4500, reason: 'malformed frame' });
    await waitFor(() => client.state === 'closed', 'the client to close');
    await waitFor(() => worker.last().heard.at(-1)?.t === 'bye', 'a goodbye');
  });

  it('gives a silent worker up and opens a fresh port, to a new worker if the old one is gone', async () => {
    const { client, worker } = tab();
    client.connect();
    await next(client, 'connected');
    const disconnected = await next(client, 'disconnected');
    assert.deepEqual(disconnected, { code: 1006, reason: 'the shared worker stopped answering', reconnect: true });
    await next(client, 'connected');
    assert.equal(worker.ports.length, 2);
    assert.equal(worker.ports[0]?.heard.at(-1)?.t, 'bye');
  });

  it('answers the worker’s token requests with the tab’s token function', async () => {
    const { client, worker } = tab(async () => 'fresh');
    client.connect();
    await next(client, 'connected');
    worker.post(worker.last().port, { t: 'token', rid: 7 });
    await waitFor(() => worker.last().heard.some((message) => message.t === 'token'), 'the token');
    assert.deepEqual(
      worker.last().heard.find((message) => message.t === 'token'),
      { t: 'token', rid: 7, token: 'fresh' },
    );
  });
});
