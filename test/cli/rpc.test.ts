import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { run } from '../support/cli.js';
import { type HubProcess, spawnHub } from '../support/hub-process.js';
import { type JsonService, startJsonService } from '../support/json-service.js';

describe('switchboard rpc', () => {
  let service: JsonService;
  let hub: HubProcess;
  before(async () => {
    // A service behind an HTTP route: what a Kafka route's service answers, the CLI prints the same way.
    service = await startJsonService((_path, { method, data }) =>
      method === 'greet.hello' ? { data: { hello: data } } : { error: { code: 'no_such_user', message: 'who?' } },
    );
    hub = await spawnHub({ rpc: { routes: [{ type: 'http', prefix: 'greet.', url: `${service.url}/rpc` }] } });
  });
  after(async () => {
    await hub.process.stop();
    await service.close();
  });

  it("prints the service's reply as one JSON line", async () => {
    const result = await run(['rpc', 'greet.hello', '{"name":"ada"}', '--url', hub.url]);
    assert.deepEqual([result.code, result.stdout], [0, '{"hello":{"name":"ada"}}\n']);
  });

  it("exits 1 with the service's code when it answers an error, and with 116 for a method without a route", async () => {
    const failed = await run(['rpc', 'greet.nobody', '1', '--url', hub.url]);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /who\? \(code 118, service code no_such_user\)/);
    const unrouted = await run(['rpc', 'orders.get', '1', '--url', hub.url]);
    assert.equal(unrouted.code, 1);
    assert.match(unrouted.stderr, /\(code 116\)/);
  });
});
