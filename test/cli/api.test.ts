import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePort } from '../services/ports.js';
import { run } from '../support/cli.js';
import { useControlHub } from './control.js';

describe('switchboard api METHOD JSON', () => {
  const { hub, env } = useControlHub();

  it('calls the method on the hub named by SWITCHBOARD_API_URL with SWITCHBOARD_API_KEY and prints the answer as one JSON line', async () => {
    const published = await run(['api', 'publish', '{"channel":"news:cli","data":{"n":1}}'], env());
    assert.equal(published.code, 0, published.stderr);
    const answer = JSON.parse(published.stdout) as { epoch: string; offset: number };
    assert.equal(answer.offset, 1);
    assert.equal(published.stdout.trim().split('\n').length, 1);
    const info = await run(['api', 'info'], env());
    assert.equal(info.code, 0, info.stderr);
    assert.equal((JSON.parse(info.stdout) as { hubs: Array<{ id: string }> }).hubs[0]?.id, hub().node.id);
  });

  it('takes --api and --key over the environment', async () => {
    const { code, stdout, stderr } = await run(
      ['api', 'history', '{"channel":"news:cli"}', '--api', hub().http, '--key', env().SWITCHBOARD_API_KEY as string],
      { SWITCHBOARD_API_URL: 'http://127.0.0.1:1', SWITCHBOARD_API_KEY: 'wrong' },
    );
    assert.equal(code, 0, stderr);
    assert.equal((JSON.parse(stdout) as { offset: number }).offset, 1);
  });

  it('without the key: exits 1 naming the status and the reason', async () => {
    const { code, stdout, stderr } = await run(['api', 'info'], { ...env(), SWITCHBOARD_API_KEY: '' });
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.equal(stderr, 'switchboard api: HTTP 401: a valid API key is required (Authorization: Bearer <key>)\n');
  });

  it('with a body that is not JSON: exits 2 with the usage, calling nothing', async () => {
    const { code, stderr } = await run(['api', 'publish', '{"channel":'], env());
    assert.equal(code, 2);
    assert.match(stderr, /^switchboard: the body is not valid JSON\n\nUsage: switchboard api METHOD/);
  });

  it('a request the hub refuses, or an unknown method: exits 1 with the hub’s reason', async () => {
    const refused = await run(['api', 'publish', '{"channel":"news:cli"}'], env());
    assert.deepEqual([refused.code, refused.stderr], [1, 'switchboard api: HTTP 400: data: required\n']);
    const unknown = await run(['api', 'explode'], env());
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^switchboard api: HTTP 404: no API method by that name/);
  });

  it('a hub that cannot be reached: exits 1 saying why', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const refused = await run(['api', 'info'], { ...env(), SWITCHBOARD_API_URL: closed });
    assert.deepEqual([refused.code, refused.stderr], [1, `switchboard: cannot reach ${closed}: ECONNREFUSED\n`]);
    const badPort = await run(['api', 'info'], { ...env(), SWITCHBOARD_API_URL: 'http://127.0.0.1:1' });
    assert.deepEqual([badPort.code, badPort.stderr], [1, 'switchboard: cannot reach http://127.0.0.1:1: bad port\n']);
  });
});
