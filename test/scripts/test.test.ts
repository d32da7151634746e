import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nodeTestArgs, unfinishedTests } from '../../scripts/test.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const temp = mkdtempSync(join(tmpdir(), 'switchboard-runner-'));
/** This file's environment less NODE_TEST_CONTEXT, which would make a child runner report to this one. */
const { NODE_TEST_CONTEXT: _, ...ENV } = process.env;
after(() => rmSync(temp, { recursive: true, force: true }));

describe('npm test (scripts/test.ts)', () => {
  it('reports a failure at the line of the .ts file where it happened', () => {
    const result = spawnSync(
      process.execPath,
      nodeTestArgs(['test/scripts/fixtures/fails.ts'], join(temp, 'fails.tap')),
      { cwd: ROOT, encoding: 'utf8', env: ENV },
    );
    assert.equal(result.status, 1);
    assert.match(result.stdout, /test at test\/scripts\/fixtures\/fails\.ts:6:1/);
    assert.match(result.stdout, /fixtures\/fails\.ts:7:10\)/, 'the assertion’s stack frame, source-mapped');
  });

  it('names a missing service and the command that installs it, before building anything', () => {
    // A PATH with node alone: no redis-server, haproxy, java or chromium.
    const bin = join(temp, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const started = Date.now();
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/test.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...ENV, PATH: bin, NO_SERVICE_INSTALL: '1' },
    });
    const elapsed = Date.now() - started;
    assert.equal(result.status, 1);
    assert.match(result.stderr, /- redis-server: for the Redis broker/);
    assert.match(result.stderr, /- haproxy: /);
    assert.match(result.stderr, /\n {2}bash scripts\/services\/install\.sh\n/);
    assert.doesNotMatch(result.stdout, /cancelled/);
    // Measured at about 0.5 s on 2 cores; the bound leaves room for a busy machine.
    assert.ok(elapsed < 3_000, `stopped after ${elapsed} ms`);
  });

  it('finds skipped and todo tests in the TAP report, so the run can fail on them', () => {
    const tap = ['ok 1 - runs', 'ok 2 - later # SKIP no kubectl', '  ok 3 - nested # TODO', 'not ok 4 - broke'].join(
      '\n',
    );
    assert.deepEqual(unfinishedTests(tap), ['later # SKIP no kubectl', 'nested # TODO']);
  });
});
