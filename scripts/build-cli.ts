/**
 * Bundles the CLI into dist/cli/bundle/ (run by `npm run build`), so that a command starts as
 * fast as `pub` in a shell loop needs: a process that only loads what `pub` needs took 0.18 s
 * unbundled (`import 'zod'` alone 52 ms), 0.09 s bundled with zod shaken as in the browser
 * bundle (figures in docs/BENCHMARKS.md). Each command is its own chunk, loaded by
 * main's dynamic import; `serve` stays the tsc output (dist/cli/serve.js) because the hub loads
 * native code (uWebSockets.js) and worker threads (pino) that must not be bundled.
 */
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { shakeZod } from '../client-sdk/build/bundle.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const serveUnbundled: Plugin = {
  name: 'serve-unbundled',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^\.\/serve\.js$/ }, () => ({ path: '../serve.js', external: true }));
  },
};

await build({
  absWorkingDir: ROOT,
  entryPoints: ['src/cli/main.ts'],
  outdir: 'dist/cli/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  // Optional native speed-ups of ws and msgpackr: loaded from node_modules when present.
  external: ['bufferutil', 'utf-8-validate', 'msgpackr-extract'],
  // ws is CommonJS and requires Node built-ins; ESM chunks need a `require` for that.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  plugins: [serveUnbundled, shakeZod],
  logLevel: 'warning',
});
