/**
 * Bundles the CLI into dist/cli/bundle/ (run by `npm run build`), so that a command starts as
 * fast as `pub` in a shell loop needs: a process that only loads what `pub` needs took 0.18 s
 * unbundled (`import 'zod'` alone 52 ms), 0.09 s bundled with zod shaken as in the browser
 * bundle (figures in docs/BENCHMARKS.md). Each command is its own chunk, loaded by main's
 * dynamic import. `serve` is bundled too: a hub that loads one chunk instead of a few hundred
 * modules settles about 2.5 MB lower (docs/BENCHMARKS.md, start-up memory). What stays outside:
 * uWebSockets.js (native), and what only some configurations load when they need it (src/optional.ts,
 * and OpenTelemetry for tracing).
 */
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { shakeZod } from '../client-sdk/build/bundle.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

// Chunk names change with their contents: without this, every build would leave the last one's behind.
rmSync(`${ROOT}/dist/cli/bundle`, { recursive: true, force: true });

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
  external: [
    // Optional native speed-ups of ws and msgpackr: loaded from node_modules when present.
    'bufferutil',
    'utf-8-validate',
    'msgpackr-extract',
    // Native: the hub refuses to run without its binary (src/transport/uws.ts).
    'uWebSockets.js',
    // Loaded only by the configurations that use them (src/optional.ts, src/tracing.ts).
    'ioredis',
    'kafkajs',
    'ajv',
    'jose',
    'yaml',
    '@opentelemetry/*',
  ],
  // ws is CommonJS and requires Node built-ins; ESM chunks need a `require` for that.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  plugins: [shakeZod],
  logLevel: 'warning',
});
