import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { NodeContext } from '../context.js';

/**
 * What a new client connection must pass before any socket or stream exists, for WebSocket
 * upgrades and SSE streams alike: a hub that is stopping refuses (503), then the per-address
 * limits (429, src/limits) and the origin allow-list (403, src/auth). Answers the refusal in
 * plain text and returns undefined, or returns the client's address.
 */
export function admitClient(
  res: HttpResponse,
  req: HttpRequest,
  node: NodeContext,
  refusing: () => boolean,
): string | undefined {
  if (refusing()) {
    res.writeStatus('503 Service Unavailable').end('hub is shutting down; connect to another', true);
    return undefined;
  }
  const remoteAddress = node.limits.clientAddress(
    Buffer.from(res.getRemoteAddressAsText()).toString(),
    req.getHeader('x-forwarded-for'),
    Buffer.from(res.getProxiedRemoteAddressAsText()).toString(),
  );
  const crowded = node.limits.admitConnection(remoteAddress);
  if (crowded) {
    res.writeStatus(crowded.status).writeHeader('retry-after', '1').end(crowded.reason);
    return undefined;
  }
  const badOrigin = node.auth.origins.check(req.getHeader('origin'));
  if (badOrigin) {
    node.limits.hit('origin');
    res.writeStatus('403 Forbidden').end(badOrigin);
    return undefined;
  }
  return remoteAddress;
}
