/**
 * Builds the browser bundles of the SDK into client-sdk/dist/bundle/ (run by `npm run build`):
 *   switchboard.js  ESM: the SDK, `connect` with sharing across tabs, `<switchboard-feed>`
 *                   (types: dist/browser.d.ts, from tsc)
 *   worker.js       classic script for the SharedWorker, which owns the shared connection
 * Both include msgpackr and zod (the protocol's frame schemas) and nothing Node-only: esbuild's
 * browser platform fails the build on any Node built-in.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, type Plugin } from 'esbuild';

/** Gzipped size limits, checked by test/client-sdk/bundle.test.ts; README lists the sizes. */
export const BUDGET_GZIP_BYTES = { 'switchboard.js': 50_000, 'worker.js': 48_000 } as const;
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
    platform: 'browser',
    target: 'es2022',
    legalComments: 'none',
    plugins: [shakeZod],
    write: false,
    logLevel: 'silent',
  };
  const entries: [BundleName, string, BuildOptions['format']][] = [
    ['switchboard.js', 'browser.ts', 'esm'],
    ['worker.js', 'worker.ts', 'iife'],
  ];
  const files = await Promise.all(
    entries.map(async ([name, entry, format]) => {
      const result = await build({ ...common, format, entryPoints: [join(SDK_DIR, 'src', entry)], outfile: name });
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
