import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import {
  ALWAYS_LOADED,
  BUDGET_GZIP_BYTES,
  BUDGET_TOTAL_GZIP_BYTES,
  type BuiltFile,
  type BundleName,
  buildBrowser,
} from '../../client-sdk/build/bundle.js';
import type * as Sdk from '../../client-sdk/src/browser.js';
import { startHub } from '../support/hub.js';

const text = (file: BuiltFile) => new TextDecoder().decode(file.contents);

describe('browser bundle', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-bundle-'));
  let built: Promise<BuiltFile[]> | undefined;
  const files = () => {
    built ??= buildBrowser(false);
    return built;
  };
  const file = async (name: BundleName) => {
    const found = (await files()).find((candidate) => candidate.name === name);
    assert.ok(found, `${name} was not built`);
    return found;
  };

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('builds for the browser without Node built-ins, each file within its gzipped size budget', async () => {
    // esbuild's browser platform fails the build on any import of a Node built-in.
    const bundles = await files();
    assert.deepEqual(bundles.map((built) => built.name).sort(), Object.keys(BUDGET_GZIP_BYTES).sort());
    for (const built of bundles) {
      assert.doesNotMatch(text(built), /\brequire\(/, `${built.name} calls require()`);
      assert.ok(
        built.gzipBytes <= BUDGET_GZIP_BYTES[built.name],
        `${built.name} is ${built.gzipBytes} bytes gzipped, over its budget of ${BUDGET_GZIP_BYTES[built.name]}`,
      );
    }
  });

  it('loads at most the total budget in a page on its own WebSocket, and in the SharedWorker', async () => {
    const loaded = (await files()).filter((built) => ALWAYS_LOADED.includes(built.name));
    const total = loaded.reduce((sum, built) => sum + built.gzipBytes, 0);
    assert.ok(
      total <= BUDGET_TOTAL_GZIP_BYTES,
      `both files are ${total} bytes gzipped, over ${BUDGET_TOTAL_GZIP_BYTES}`,
    );
  });

  it('leaves the codec out of switchboard.js, which a page sharing the worker’s connection loads alone', async () => {
    const page = text(await file('switchboard.js'));
    assert.doesNotMatch(page, /msgpack extension types are not part of the protocol/);
    assert.doesNotMatch(page, /MessagePack 0xC1/);
    assert.match(page, /import\(new URL\("\.\/worker\.js",import\.meta\.url\)/);
  });

  it('makes worker.js take the SDK from switchboard.js instead of carrying a copy', async () => {
    const worker = text(await file('worker.js'));
    assert.match(worker, /from"\.\/switchboard\.js"/);
    assert.doesNotMatch(worker, /no reply to ping/);
  });

  it('is a working SDK on its own: a Client loads the WebSocket link from worker.js and round-trips msgpack', async () => {
    for (const built of await files()) writeFileSync(join(dir, built.name), built.contents);
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    const sdk = (await import(pathToFileURL(join(dir, 'switchboard.js')).href)) as typeof Sdk;
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
