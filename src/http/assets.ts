import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { respondError } from './respond.js';

/** A file the hub serves, by repository path, with its content type. */
export type AssetTable = Readonly<Record<string, readonly [file: string, type: string]>>;

export const HTML = 'text/html; charset=utf-8';
export const SCRIPT = 'text/javascript; charset=utf-8';
export const STYLE = 'text/css; charset=utf-8';

/**
 * The repository root: the nearest folder above this module with demo/ in it, so that the same
 * code finds the assets from src/http (tsx), dist/http (compiled) and dist/cli/bundle (bundled).
 */
function findRoot(): URL {
  for (let dir = new URL('./', import.meta.url); dir.pathname !== '/'; dir = new URL('../', dir)) {
    if (existsSync(new URL('demo/index.html', dir))) return dir;
  }
  return new URL('../../', import.meta.url);
}

const ROOT = findRoot();

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

/**
 * Answers a GET for `path` with a file from a fixed table, so no request path ever reaches the
 * file system. A WebSocket client pointed at a page (`ws://host:8080`, path forgotten) gets a
 * 404 naming the endpoint, like any other path, rather than a page it cannot read.
 */
export function sendAsset(res: HttpResponse, req: HttpRequest, path: string, [file, type]: readonly [string, string]) {
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
}
