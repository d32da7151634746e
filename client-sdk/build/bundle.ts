/**
 * Builds the browser bundles of the SDK into client-sdk/dist/bundle/ (run by `npm run build`),
 * two ES modules served side by side:
 *   switchboard.js  the SDK without the WebSocket link: `Client`, `connect` with sharing across
 *                   tabs, `<switchboard-feed>` (types: dist/browser.d.ts, from tsc). All that a
 *                   page sharing the SharedWorker's connection loads.
 *   worker.js       the WebSocket link (codec, frame checks) and the SharedWorker's host; it
 *                   imports the SDK from ./switchboard.js. The SharedWorker runs it, and a page
 *                   without SharedWorker imports it the first time it dials (default-link.browser.ts).
 *   stream.js       the HTTP-streaming link, imported only where WebSocket upgrades fail; it
 *                   takes the SDK from switchboard.js and the frame checks from worker.js.
 * The hub serves exactly these files (src/http/demo.ts), so the split has no other chunk.
 * Nothing Node-only: esbuild's browser platform fails the build on any Node built-in.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, type Plugin } from 'esbuild';

/** Gzipped size limits, checked by test/client-sdk/bundle.test.ts; README lists the sizes. */
export const BUDGET_GZIP_BYTES = {
  /** What a page sharing the worker's connection loads. */
  'switchboard.js': 12_000,
  /**
   * Loaded on top of switchboard.js, by the SharedWorker and by a page on its own WebSocket. The
   * split between the two files is ours; what a page pays is bounded by the total below. 13 kB
   * since delta pushes: fossil-delta's decoder is 1.3 kB gzipped on its own, applied in the link.
   */
  'worker.js': 13_000,
  /** The HTTP-streaming link, loaded only by a page or worker whose WebSocket upgrades fail. */
  'stream.js': 2_000,
} as const;
/** Files every page on its own WebSocket loads (stream.js only comes with a fallback). */
export const ALWAYS_LOADED: readonly BundleName[] = ['switchboard.js', 'worker.js'];
/**
 * Both files: a page with everything (its own WebSocket), and the SharedWorker. 22 kB since the
 * make-before-break move off a draining hub (handover.ts and the split around it, about 1.6 kB
 * gzipped) came on top of presence, server-side subscriptions and keyed publishes; 23.5 kB since
 * the delta decoder (1.3 kB of fossil-delta, 0.3 kB of ours); 24 kB since choosing between the
 * WebSocket and the HTTP-streaming link (0.3 kB; the streaming link itself is stream.js). Loading
 * the delta decoder only for pages that ask for deltas would take 1.6 kB back off.
 */
export const BUDGET_TOTAL_GZIP_BYTES = 24_000;
export type BundleName = keyof typeof BUDGET_GZIP_BYTES;

const SDK_DIR = fileURLToPath(new URL('..', import.meta.url));
export const BUNDLE_DIR = join(SDK_DIR, 'dist', 'bundle');

/**
 * `import { z } from 'zod'` (the protocol's style) hands the bundler zod's whole namespace object,
 * locales and all (~92 KB gzipped); `import * as z` lets esbuild keep only what is used (~26 KB).
 */
export const shakeZod: Plugin = {
  name: 'shake-zod',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]protocol[\\/]dist[\\/][^\\/]+\.js$/ }, async (args) => ({
      contents: (await readFile(args.path, 'utf8')).replaceAll("import { z } from 'zod';", "import * as z from 'zod';"),
      loader: 'js',
    }));
  },
};

/** The page bundle links through worker.js, loaded when first needed, rather than holding the codec. */
const lazyWebSocketLink: Plugin = {
  name: 'lazy-websocket-link',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^\.\/default-link\.js$/ }, () => ({
      path: join(SDK_DIR, 'src', 'default-link.browser.ts'),
    }));
  },
};

/**
 * worker.js takes the SDK's classes from switchboard.js, not a copy of its own: the page that
 * imports worker.js then shares one `Client` and one `SwitchboardError` with it, and the bytes are
 * not loaded twice. browser.ts exports every name these modules give worker.js.
 */
const SDK_FROM_PAGE = /^\.\/(client|errors)\.js$/;
const sdkFromPage: Plugin = {
  name: 'sdk-from-page',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: SDK_FROM_PAGE }, () => ({ path: './switchboard.js', external: true }));
  },
};

/** stream.js takes the SDK from switchboard.js and the frame checks (the protocol's schemas) from worker.js. */
const checksFromWorker: Plugin = {
  name: 'checks-from-worker',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: SDK_FROM_PAGE }, () => ({ path: './switchboard.js', external: true }));
    pluginBuild.onResolve({ filter: /^\.\/frame-check\.js$/ }, () => ({ path: './worker.js', external: true }));
  },
};

export interface BuiltFile {
  readonly name: BundleName;
  readonly contents: Uint8Array;
  readonly gzipBytes: number;
}

/** Builds both bundles in memory; `write` also saves them to BUNDLE_DIR. */
export async function buildBrowser(write: boolean): Promise<BuiltFile[]> {
  const common: BuildOptions = {
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  };
  const entries: [BundleName, string, Plugin][] = [
    ['switchboard.js', 'browser.ts', lazyWebSocketLink],
    ['worker.js', 'worker.ts', sdkFromPage],
    ['stream.js', 'stream.ts', checksFromWorker],
  ];
  const files = await Promise.all(
    entries.map(async ([name, entry, plugin]) => {
      const result = await build({
        ...common,
        plugins: [plugin, shakeZod],
        entryPoints: [join(SDK_DIR, 'src', entry)],
        outfile: name,
      });
      const contents = result.outputFiles?.[0]?.contents ?? new Uint8Array();
      return { name, contents, gzipBytes: gzipSync(contents, { level: 9 }).byteLength };
    }),
  );
  if (write) {
    await mkdir(BUNDLE_DIR, { recursive: true });
    await Promise.all(files.map((file) => writeFile(join(BUNDLE_DIR, file.name), file.contents)));
  }
  return files;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const file of await buildBrowser(true)) {
    const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;
    console.log(
      `client-sdk/dist/bundle/${file.name}: ${kb(file.contents.byteLength)}, ${kb(file.gzipBytes)} gzipped (budget ${kb(BUDGET_GZIP_BYTES[file.name])})`,
    );
  }
}
