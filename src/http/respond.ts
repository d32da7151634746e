import type { HttpResponse } from 'uWebSockets.js';

const aborted = new WeakSet<HttpResponse>();

/** Must be installed before any await in a handler: uWS requires it and invalidates `res` on abort. */
export function trackAbort(res: HttpResponse): void {
  res.onAborted(() => aborted.add(res));
}

export function isAborted(res: HttpResponse): boolean {
  return aborted.has(res);
}

/**
 * Writes a whole JSON response. Corked, because responses written after an await are outside
 * uWS' implicit cork; skipped when the client went away.
 */
export function respondJson(res: HttpResponse, status: string, body: unknown): void {
  if (aborted.has(res)) return;
  res.cork(() => {
    res.writeStatus(status).writeHeader('content-type', 'application/json').end(JSON.stringify(body));
  });
}

export function respondError(res: HttpResponse, status: string, reason: string): void {
  respondJson(res, status, { error: reason });
}

/** A refusal decided before any body was read (src/transport/handshake.ts): plain text, with its headers. */
export function respondRefusal(
  res: HttpResponse,
  refusal: { readonly status: string; readonly headers?: Readonly<Record<string, string>>; readonly reason: string },
): void {
  if (aborted.has(res)) return;
  res.cork(() => {
    res.writeStatus(refusal.status);
    for (const [name, value] of Object.entries(refusal.headers ?? {})) res.writeHeader(name, value);
    res.writeHeader('content-type', 'text/plain; charset=utf-8').end(refusal.reason);
  });
}
