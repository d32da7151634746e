import type { HttpResponse } from 'uWebSockets.js';

const aborted = new WeakSet<HttpResponse>();
/** Responses after which the connection closes (the hub is draining). */
const closing = new WeakSet<HttpResponse>();

/** Must be installed before any await in a handler: uWS requires it and invalidates `res` on abort. */
export function trackAbort(res: HttpResponse): void {
  res.onAborted(() => aborted.add(res));
}

export function isAborted(res: HttpResponse): boolean {
  return aborted.has(res);
}

/**
 * The response will carry `Connection: close` and end its connection: a draining hub does this
 * for every request, so that a keep-alive client (a service publishing through the balancer)
 * opens its next connection, which the balancer sends elsewhere, instead of sending into a
 * connection the hub is about to cut.
 */
export function closeAfter(res: HttpResponse): void {
  closing.add(res);
}

/**
 * Writes a whole JSON response. Corked, because responses written after an await are outside
 * uWS' implicit cork; skipped when the client went away.
 */
export function respondJson(res: HttpResponse, status: string, body: unknown): void {
  if (aborted.has(res)) return;
  res.cork(() => {
    res.writeStatus(status).writeHeader('content-type', 'application/json').end(JSON.stringify(body), closing.has(res));
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
    res.writeHeader('content-type', 'text/plain; charset=utf-8').end(refusal.reason, closing.has(res));
  });
}
