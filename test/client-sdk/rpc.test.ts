import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { ErrorCode } from '@switchboard/protocol';
import WebSocket from 'ws';
import { hostOptions } from '../../client-sdk/src/connect.js';
import { Client, portLink, type SwitchboardError, WorkerHost } from '../../client-sdk/src/index.js';
import type { PortLike } from '../../client-sdk/src/tab-protocol.js';
import { startHub, type TestHub } from '../support/hub.js';
import { type JsonService, startJsonService } from '../support/json-service.js';
import { waitFor } from '../support/wait.js';
import { ScriptedHub } from './scripted-hub.js';

const FAST_BACKOFF = { initialMs: 10, maxMs: 50 };

describe('client.rpc', () => {
  let service: JsonService;
  let hub: TestHub;
  const clients: Client[] = [];
  before(async () => {
    service = await startJsonService((_path, { method, data }) =>
      method === 'math.double' ? { data: (data as number) * 2 } : { error: { code: 'nope', message: 'no' } },
    );
    const url = `${service.url}/`;
    hub = await startHub({ rpc: { routes: [{ type: 'http', prefix: 'math.', url, timeoutMs: 5_000 }] } });
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  after(async () => {
    await hub.stop();
    await service.close();
  });

  const direct = () => {
    const client = new Client(hub.url, { WebSocket, backoff: FAST_BACKOFF });
    clients.push(client);
    return client;
  };

  it("resolves with the service's reply data", async () => {
    assert.equal(await direct().rpc('math.double', 21), 42);
  });

  it("rejects with 118 and the service's code, and with 116 for a method without a route", async () => {
    const client = direct();
    await assert.rejects(client.rpc('math.divide', 1), (error: SwitchboardError) => {
      assert.deepEqual([error.code, error.serviceCode, error.message], [ErrorCode.SERVICE_ERROR, 'nope', 'no']);
      return true;
    });
    await assert.rejects(client.rpc('users.get', 1), { code: ErrorCode.NO_ROUTE });
  });

  it('works the same from a tab sharing the SharedWorker’s connection', async () => {
    const worker = new WorkerHost({ client: { WebSocket }, pingMs: 50 });
    const { port1, port2 } = new MessageChannel();
    worker.accept(port2 as unknown as PortLike);
    const link = portLink({
      openPort: () => port1 as unknown as PortLike,
      host: hostOptions({ backoff: FAST_BACKOFF }),
      token: undefined,
      pingMs: 50,
    });
    const tab = new Client(hub.url, { link, backoff: FAST_BACKOFF });
    clients.push(tab);
    try {
      assert.equal(await tab.rpc('math.double', 4), 8);
      await assert.rejects(tab.rpc('math.divide', 1), { code: ErrorCode.SERVICE_ERROR, serviceCode: 'nope' });
    } finally {
      tab.close();
      worker.close();
      port1.close();
    }
  });
});

describe('client.publish and its idempotency key', () => {
  it('sends a publish whose outcome is unknown (115) again with the same key, and settles with the ack', async () => {
    const scripted = new ScriptedHub();
    const client = new Client('memory://hub', { link: scripted.dial, backoff: { initialMs: 1, maxMs: 2 } });
    const link = await (async () => {
      client.connect();
      return scripted.connected();
    })();
    const acked = client.publish('ev:1', { n: 1 });
    await waitFor(() => link.frames('pub').length === 1, 'the first attempt');
    const first = link.last('pub');
    link.hub({ t: 'err', id: first.id, code: ErrorCode.OUTCOME_UNKNOWN, msg: 'no answer in time', tmp: true });
    await waitFor(() => link.frames('pub').length === 2, 'the retry');
    const retry = link.last('pub');
    assert.ok(first.key);
    assert.equal(retry.key, first.key);
    link.hub({ t: 'ok', id: retry.id, r: {} });
    assert.deepEqual(await acked, {});
    const other = client.publish('ev:1', { n: 2 }, { retryMs: 0 });
    await waitFor(() => link.frames('pub').length === 3, 'another publish');
    assert.notEqual(link.last('pub').key, first.key, 'each publish has its own key');
    link.hub({ t: 'err', id: link.last('pub').id, code: ErrorCode.OUTCOME_UNKNOWN, msg: 'x', tmp: true });
    await assert.rejects(other, { code: ErrorCode.OUTCOME_UNKNOWN });
    client.close();
  });
});
