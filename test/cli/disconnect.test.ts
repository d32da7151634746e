import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloseCode } from '@switchboard/protocol';
import { run } from '../support/cli.js';
import { useControlHub } from './control.js';

describe('switchboard disconnect --user|--client [--code] [--reason] [--no-reconnect]', () => {
  const { env, connect } = useControlHub();

  it('--user closes every connection of the user with 4007 and prints how many and how many hubs answered', async () => {
    const [one, two, other] = [await connect('cy'), await connect('cy'), await connect('di')];
    const { code, stdout, stderr } = await run(['disconnect', '--user', 'cy'], env());
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), {
      connections: 2,
      hubs: { asked: 1, answered: 1, missing: [], failed: [], complete: true },
    });
    for (const { client } of [one, two])
      assert.deepEqual(await client.waitClosed(), {
        code: CloseCode.SERVER_DISCONNECT,
        reason: 'disconnected by the server',
      });
    assert.equal(other.client.closed, undefined);
  });

  it('--client closes that connection only; --no-reconnect makes it 4502; --code and --reason are passed on', async () => {
    const [first, second] = [await connect('ed'), await connect('ed')];
    const final = await run(['disconnect', '--client', first.id, '--no-reconnect'], env());
    assert.equal(final.code, 0, final.stderr);
    assert.equal((JSON.parse(final.stdout) as { connections: number }).connections, 1);
    assert.equal((await first.client.waitClosed()).code, CloseCode.SERVER_DISCONNECT_FINAL);
    assert.equal(second.client.closed, undefined);
    const chosen = await run(['disconnect', '--client', second.id, '--code', '4444', '--reason', 'moving'], env());
    assert.equal(chosen.code, 0, chosen.stderr);
    assert.deepEqual(await second.client.waitClosed(), { code: 4444, reason: 'moving' });
  });

  it('refuses what cannot be right: no target, a code out of range (2), a code contradicting --no-reconnect (1), no key (1)', async () => {
    const none = await run(['disconnect'], env());
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^switchboard: give --user ID or --client ID\n/);
    const range = await run(['disconnect', '--user', 'x', '--code', '1000'], env());
    assert.equal(range.code, 2);
    assert.match(range.stderr, /^switchboard: --code must be an integer from 4000 to 4999\n/);
    const contradiction = await run(['disconnect', '--user', 'x', '--code', '4100', '--no-reconnect'], env());
    assert.deepEqual(
      [contradiction.code, contradiction.stderr],
      [
        1,
        'switchboard disconnect: HTTP 400: code 4100 tells the client to reconnect; it contradicts reconnect: false\n',
      ],
    );
    const anonymous = await run(['disconnect', '--user', 'x'], { ...env(), SWITCHBOARD_API_KEY: '' });
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /^switchboard disconnect: HTTP 401: /);
  });
});
