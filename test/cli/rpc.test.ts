import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type HubProcess, spawnHub } from '../support/hub-process.js';

const CLI = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));

async function rpc(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'rpc', ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('switchboard rpc', () => {
  let service: Server;
  let hub: HubProcess;
  before(async () => {
    // A service behind an HTTP route: what a Kafka route's service answers, the CLI prints the same way.
    service = createServer(async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const { method, data } = JSON.parse(Buffer.concat(chunks).toString()) as { method: string; data: unknown };
      const answer =
        method === 'greet.hello' ? { data: { hello: data } } : { error: { code: 'no_such_user', message: 'who?' } };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(service.address() as AddressInfo).port}/rpc`;
    hub = await spawnHub({ rpc: { routes: [{ type: 'http', prefix: 'greet.', url }] } });
  });
  after(async () => {
    await hub.process.stop();
    service.close();
  });

  it("prints the service's reply as one JSON line", async () => {
    const result = await rpc('greet.hello', '{"name":"ada"}', '--url', hub.url);
    assert.deepEqual([result.code, result.stdout], [0, '{"hello":{"name":"ada"}}\n']);
  });

  it("exits 1 with the service's code when it answers an error, and with 116 for a method without a route", async () => {
    const failed = await rpc('greet.nobody', '1', '--url', hub.url);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /who\? \(code 118, service code no_such_user\)/);
    const unrouted = await rpc('orders.get', '1', '--url', hub.url);
    assert.equal(unrouted.code, 1);
    assert.match(unrouted.stderr, /\(code 116\)/);
  });
});
