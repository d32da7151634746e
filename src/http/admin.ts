import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AdminView } from '../admin/snapshot.js';
import { isLoopback, normalizeAddress } from '../limits/address.js';
import { type AssetTable, HTML, SCRIPT, sendAsset } from './assets.js';
import { respondError, respondJson, trackAbort } from './respond.js';

/** The admin page (admin/), served from memory like the demo. */
export const ADMIN_ASSETS: AssetTable = {
  '/admin': ['admin/index.html', HTML],
  '/admin/admin.js': ['admin/admin.js', SCRIPT],
};

const REALM = 'Basic realm="switchboard admin", charset="UTF-8"';
const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Who may see the admin view. With `http.apiKey`: requests carrying it, as `Bearer <key>` (tools)
 * or as the password of HTTP Basic (a browser asks for it; any user name), compared in constant
 * time as for POST /api/publish. Without a key: this machine only (loopback), as the publish API.
 */
export class AdminAccess {
  private readonly key: Buffer | undefined;

  constructor(apiKey: string | undefined) {
    this.key = apiKey === undefined ? undefined : digest(apiKey);
  }

  /** The refusal (status and reason) for a request, or undefined to serve it. */
  check(authorization: string, peer: string): { status: string; reason: string } | undefined {
    if (!this.key) {
      if (isLoopback(peer)) return undefined;
      return {
        status: '403 Forbidden',
        reason: 'without http.apiKey the admin view only serves this machine (loopback)',
      };
    }
    const presented = presentedKey(authorization);
    if (presented !== undefined && timingSafeEqual(digest(presented), this.key)) return undefined;
    return {
      status: '401 Unauthorized',
      reason: 'the admin view needs the API key (Bearer, or Basic with it as password)',
    };
  }
}

function presentedKey(authorization: string): string | undefined {
  const bearer = /^Bearer +(\S+)\s*$/i.exec(authorization);
  if (bearer) return bearer[1];
  const basic = /^Basic +([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
  if (!basic?.[1]) return undefined;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/** `GET /admin`, its script, and `GET /admin/api/snapshot` (AdminSnapshot), behind AdminAccess. */
export function registerAdmin(app: TemplatedApp, access: AdminAccess, view: AdminView): void {
  const guarded = (handle: (res: HttpResponse, req: HttpRequest) => void) => (res: HttpResponse, req: HttpRequest) => {
    const peer = normalizeAddress(Buffer.from(res.getRemoteAddressAsText()).toString());
    const refused = access.check(req.getHeader('authorization'), peer);
    if (!refused) return handle(res, req);
    res.cork(() => {
      res.writeStatus(refused.status).writeHeader('content-type', 'application/json');
      if (refused.status.startsWith('401')) res.writeHeader('www-authenticate', REALM);
      res.end(JSON.stringify({ error: refused.reason }));
    });
  };
  for (const [path, asset] of Object.entries(ADMIN_ASSETS)) {
    app.get(
      path,
      guarded((res, req) => sendAsset(res, req, path, asset)),
    );
  }
  app.get(
    '/admin/api/snapshot',
    guarded((res) => {
      trackAbort(res);
      view.snapshot().then(
        (snapshot) => respondJson(res, '200 OK', snapshot),
        () => respondError(res, '500 Internal Server Error', 'snapshot unavailable'),
      );
    }),
  );
}
