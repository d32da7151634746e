import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { BUDGET_GZIP_BYTES, type BuiltFile, buildBrowser } from '../../client-sdk/build/bundle.js';
import type * as Sdk from '../../client-sdk/src/browser.js';
import { startHub } from '../support/hub.js';

describe('browser bundle', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-bundle-'));
  let built: Promise<BuiltFile[]> | undefined;
  const files = () => {
    built ??= buildBrowser(false);
    return built;
  };

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('builds for the browser without Node built-ins, within its gzipped size budget', async () => {
    // esbuild's browser platform fails the build on any import of a Node built-in.
    const bundles = await files();
    assert.deepEqual(bundles.map((file) => file.name).sort(), Object.keys(BUDGET_GZIP_BYTES).sort());
    for (const file of bundles) {
      assert.doesNotMatch(new TextDecoder().decode(file.contents), /\brequire\(/, `${file.name} calls require()`);
      assert.ok(
        file.gzipBytes <= BUDGET_GZIP_BYTES[file.name],
        `${file.name} is ${file.gzipBytes} bytes gzipped, over its budget of ${BUDGET_GZIP_BYTES[file.name]}`,
      );
    }
  });

  it('is a working SDK on its own: msgpack round trip through a hub', async () => {
    const page = (await files()).find((file) => file.name === 'switchboard.js');
    assert.ok(page);
    const path = join(dir, 'switchboard.mjs');
    writeFileSync(path, page.contents);
    const sdk = (await import(pathToFileURL(path).href)) as typeof Sdk;
    const hub = await startHub();
    const client = new sdk.Client(hub.url, { WebSocket });
    try {
      const subscription = client.subscribe('bundle');
      await subscription.ready;
      const received = new Promise((resolve) => subscription.on('publication', (p) => resolve(p.data)));
      await client.publish('bundle', { packed: [1, 'two'] });
      assert.deepEqual(await received, { packed: [1, 'two'] });
    } finally {
      client.close();
      await hub.stop();
    }
  });
});
