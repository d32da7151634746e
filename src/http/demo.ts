import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { type AssetTable, HTML, SCRIPT, STYLE, sendAsset } from './assets.js';
import { respondJson } from './respond.js';

/** The demo application (demo/) and the SDK's browser bundle, served from memory. */
export const DEMO_ASSETS: AssetTable = {
  '/': ['demo/index.html', HTML],
  '/demo.css': ['demo/demo.css', STYLE],
  '/demo.js': ['demo/demo.js', SCRIPT],
  '/board.js': ['demo/board.js', SCRIPT],
  '/chat.js': ['demo/chat.js', SCRIPT],
  '/status.js': ['demo/status.js', SCRIPT],
  '/presence.js': ['demo/presence.js', SCRIPT],
  '/switchboard.js': ['client-sdk/dist/bundle/switchboard.js', SCRIPT],
  '/worker.js': ['client-sdk/dist/bundle/worker.js', SCRIPT],
  '/stream.js': ['client-sdk/dist/bundle/stream.js', SCRIPT],
};

/** `GET /`, its files, and `GET /api/stats` → `{"connections"}`: the hub's live WebSockets. */
export function registerDemo(app: TemplatedApp, connections: () => number): void {
  for (const [path, asset] of Object.entries(DEMO_ASSETS)) {
    app.get(path, (res: HttpResponse, req: HttpRequest) => sendAsset(res, req, path, asset));
  }
  app.get('/api/stats', (res) => respondJson(res, '200 OK', { connections: connections() }));
}
