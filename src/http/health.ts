import type { HttpResponse } from 'uWebSockets.js';
import { respondJson } from './respond.js';

/** `GET /healthz`: the process is alive and its event loop turns. */
export function handleHealth(res: HttpResponse): void {
  respondJson(res, '200 OK', { status: 'ok' });
}

/** `GET /readyz`: 200 while the hub can serve clients, 503 with the reasons while it cannot. */
export function handleReady(reasons: () => readonly string[]) {
  return (res: HttpResponse): void => {
    const notReady = reasons();
    if (notReady.length === 0) respondJson(res, '200 OK', { status: 'ready' });
    else respondJson(res, '503 Service Unavailable', { status: 'not ready', reasons: notReady });
  };
}
