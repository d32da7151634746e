import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { respondError, respondJson } from './respond.js';

/**
 * The demo page and the SDK's browser bundle, served from memory. A fixed table of paths, so no
 * request path ever reaches the file system.
 */
const ASSETS: Readonly<Record<string, readonly [file: string, type: string]>> = {
  '/': ['demo/index.html', 'text/html; charset=utf-8'],
  '/demo.js': ['demo/demo.js', 'text/javascript; charset=utf-8'],
  '/switchboard.js': ['client-sdk/dist/bundle/switchboard.js', 'text/javascript; charset=utf-8'],
  '/worker.js': ['client-sdk/dist/bundle/worker.js', 'text/javascript; charset=utf-8'],
};

/** The repository root, from src/http (tsx) and from dist/http (compiled) alike. */
const ROOT = new URL('../../', import.meta.url);

interface Asset {
  readonly plain: Buffer;
  /** Compressed once, so browsers load the bundle at its gzipped size (the size README states). */
  readonly gzip: Buffer;
}

const loaded = new Map<string, Asset>();

/** Read once, when first asked for; a missing bundle is read again once `npm run build` made it. */
function asset(file: string): Asset | undefined {
  let contents = loaded.get(file);
  if (!contents) {
    try {
      const plain = readFileSync(new URL(file, ROOT));
      contents = { plain, gzip: gzipSync(plain, { level: 9 }) };
    } catch {
      return undefined;
    }
    loaded.set(file, contents);
  }
  return contents;
}

/** `GET /`, its scripts, and `GET /api/stats` → `{"connections"}`: the hub's live WebSockets. */
export function registerDemo(app: TemplatedApp, connections: () => number): void {
  for (const [path, [file, type]] of Object.entries(ASSETS)) {
    app.get(path, (res: HttpResponse, req: HttpRequest) => {
      // A WebSocket client pointed at the page (`ws://host:8080`, path forgotten) gets a 404
      // naming the endpoint, like any other path, rather than a page it cannot read.
      if (req.getHeader('upgrade') !== '') {
        respondError(res, '404 Not Found', `no WebSocket endpoint at ${path}; it is at /ws`);
        return;
      }
      const contents = asset(file);
      if (!contents) {
        res.writeStatus('404 Not Found').end(`${file} is missing; run npm run build`);
        return;
      }
      const gzip = /\bgzip\b/.test(req.getHeader('accept-encoding'));
      res.writeHeader('content-type', type).writeHeader('x-content-type-options', 'nosniff');
      res.writeHeader('cache-control', 'no-cache').writeHeader('vary', 'accept-encoding');
      if (gzip) res.writeHeader('content-encoding', 'gzip');
      res.end(gzip ? contents.gzip : contents.plain);
    });
  }
  app.get('/api/stats', (res) => respondJson(res, '200 OK', { connections: connections() }));
}
