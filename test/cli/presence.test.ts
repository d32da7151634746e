import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { run } from '../support/cli.js';
import { useControlHub } from './control.js';

describe('switchboard presence CHANNEL [--stats]', () => {
  const { env, connect } = useControlHub();

  it('prints one JSON line per connection in the channel, over every hub, or (nobody)', async () => {
    const empty = await run(['presence', 'room:cli'], env());
    assert.deepEqual([empty.code, empty.stdout], [0, '(nobody)\n']);
    const ada = await connect('ada', { info: { name: 'Ada' } });
    const bea = await connect('bea');
    for (const { client } of [ada, bea]) await client.ok({ t: 'sub', ch: 'room:cli' });
    const { code, stdout, stderr } = await run(['presence', 'room:cli'], env());
    assert.equal(code, 0, stderr);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { client: string })
      .sort((a, b) => a.client.localeCompare(b.client));
    assert.deepEqual(
      lines,
      [
        { client: ada.id, user: 'ada', info: { name: 'Ada' } },
        { client: bea.id, user: 'bea' },
      ].sort((a, b) => a.client.localeCompare(b.client)),
    );
  });

  it('with --stats prints the counts as one JSON line', async () => {
    const { code, stdout } = await run(['presence', 'room:cli', '--stats'], env());
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(stdout), { clients: 2, users: 2 });
  });

  it('exits 1 with the reason for a namespace without presence, and 2 without exactly one channel', async () => {
    const disabled = await run(['presence', 'news:cli'], env());
    assert.deepEqual(
      [disabled.code, disabled.stderr],
      [1, "switchboard presence: HTTP 400: presence is not enabled for news:cli's namespace\n"],
    );
    for (const args of [['presence'], ['presence', 'room:a', 'room:b']]) {
      const usage = await run(args, env());
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /^switchboard: give exactly one CHANNEL\n/);
    }
  });
});
