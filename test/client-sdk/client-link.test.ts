/**
 * What the Client does with its link (client-sdk/src/link.ts), whichever it is: here one in
 * memory, on which the test plays the hub or makes the dial fail.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  Client,
  ClientErrorCode,
  type ClientOptions,
  type Dial,
  type DisconnectedEvent,
  SwitchboardError,
} from '../../client-sdk/src/index.js';
import { sleep, waitFor } from '../support/wait.js';
import { nextEvent } from './helpers.js';
import { ScriptedHub } from './scripted-hub.js';

describe('a Client over a link', () => {
  const clients: Client[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  const make = (options: ClientOptions) => {
    const client = new Client('memory://hub', options);
    clients.push(client);
    return client;
  };

  it('sends connect when the link opens, and nothing before the reply', async () => {
    const hub = new ScriptedHub();
    const client = make({ link: hub.dial, name: 'tests', token: 'secret' });
    client.subscribe('news');
    const link = await hub.link();
    assert.equal(link.sent.length, 0);
    link.accept();
    assert.deepEqual(
      link.sent.map((frame) => frame.t),
      ['connect', 'sub'],
    );
    assert.deepEqual(link.last('connect'), { t: 'connect', id: 1, token: 'secret', name: 'tests' });
  });

  it('dials again after the delay the link names, rather than after its own backoff', async () => {
    const hub = new ScriptedHub();
    const client = make({ link: hub.dial, backoff: { initialMs: 60_000, maxMs: 60_000 } });
    client.connect();
    const link = await hub.connected();
    const disconnected = nextEvent(client, 'disconnected');
    link.drop(1001, 'the worker lost the hub', 0);
    assert.deepEqual(await disconnected, { code: 1001, reason: 'the worker lost the hub', reconnect: true });
    await hub.connected();
    assert.equal(hub.links.length, 2);
  });

  it('closes for good when the link closes with a code that forbids reconnecting', async () => {
    const hub = new ScriptedHub();
    const client = make({ link: hub.dial });
    const sub = client.subscribe('news');
    const link = await hub.connected();
    const events: DisconnectedEvent[] = [];
    client.on('disconnected', (event) => events.push(event));
    link.drop(4501, 'unauthorized');
    assert.deepEqual(events, [{ code: 4501, reason: 'unauthorized', reconnect: false }]);
    assert.equal(client.state, 'closed');
    assert.equal(sub.state, 'unsubscribed');
  });

  it('tries a dial that fails again after its backoff, and reports why', async () => {
    let dials = 0;
    const hub = new ScriptedHub();
    const flaky: Dial = (url, events) => {
      dials += 1;
      if (dials === 1) throw new Error('worker.js did not load');
      return hub.dial(url, events);
    };
    const client = make({ link: flaky, backoff: { initialMs: 1, maxMs: 2 } });
    const error = nextEvent(client, 'error');
    client.connect();
    assert.deepEqual(
      [(await error).code, (await error).message],
      [ClientErrorCode.DISCONNECTED, 'worker.js did not load'],
    );
    await hub.connected();
    await waitFor(() => client.state === 'connected', 'connected');
  });

  it('closes for good when the dial is refused for good', async () => {
    const client = make({
      link: () => {
        throw new SwitchboardError(ClientErrorCode.CLOSED, 'no WebSocket can use this URL', false);
      },
    });
    const error = nextEvent(client, 'error');
    client.connect();
    assert.equal((await error).message, 'no WebSocket can use this URL');
    assert.equal(client.state, 'closed');
  });

  it('fails a request its link cannot send, and keeps the link', async () => {
    const hub = new ScriptedHub();
    const refusing: Dial = (url, events) => {
      const link = hub.dial(url, events);
      const send = link.send.bind(link);
      link.send = (frame) =>
        frame.t === 'pub' ? new SwitchboardError(ClientErrorCode.FRAME_TOO_LARGE, 'too large', false) : send(frame);
      return link;
    };
    const client = make({ link: refusing });
    client.connect();
    await hub.connected();
    await assert.rejects(client.publish('news', 'x'), { code: ClientErrorCode.FRAME_TOO_LARGE });
    assert.equal(client.state, 'connected');
  });

  it('reports frames the link found bad and carries on', async () => {
    const hub = new ScriptedHub();
    const client = make({ link: hub.dial });
    const errors: SwitchboardError[] = [];
    client.on('error', (error) => errors.push(error));
    client.connect();
    const link = await hub.connected();
    link.hub({ t: 'err', id: 0, code: 107, msg: 'id: too big' });
    await sleep(1);
    assert.deepEqual(
      errors.map((error) => [error.code, error.message]),
      [[107, 'id: too big']],
    );
    assert.equal(client.state, 'connected');
  });
});
