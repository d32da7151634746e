import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { encodeData } from '@switchboard/protocol';
import type { NodeContext } from '../context.js';
import { HubError } from '../errors.js';
import { normalizeAddress } from '../limits/address.js';
import { SpanKind, traced } from '../tracing.js';
import { readBody, refuseOversizedBody } from './body.js';
import { respondError, respondJson, trackAbort } from './respond.js';
import { HttpPublishBody } from './schemas.js';

/**
 * `POST /api/publish` with a JSON body `{channel, data}` → `200 {epoch, offset}`. The body is
 * parsed as JSON whatever its content type, so `curl -d` works as is. Callers need the API key
 * (`http.apiKey`), or, without one, to be on this machine (src/auth/api-key.ts).
 */
export function handlePublish(node: NodeContext) {
  return (res: HttpResponse, req: HttpRequest): void => {
    const peer = normalizeAddress(Buffer.from(res.getRemoteAddressAsText()).toString());
    const refused = node.auth.api.check(req.getHeader('authorization'), peer);
    if (refused) {
      respondError(res, refused.status, refused.reason);
      return;
    }
    // Headers are only readable before the first await.
    const carrier = {
      traceparent: req.getHeader('traceparent') || undefined,
      tracestate: req.getHeader('tracestate') || undefined,
    };
    // Refused before reading: a declared length over the limit (2^32 and more included) never streams in.
    if (refuseOversizedBody(res, req, node.config.limits.maxHttpBodyBytes)) return;
    trackAbort(res);
    void readBody(res, node.config.limits.maxHttpBodyBytes)
      .then(async (read) => {
        if (!read.ok) {
          if (read.tooLarge)
            respondError(res, '413 Payload Too Large', `body over ${node.config.limits.maxHttpBodyBytes} bytes`);
          return;
        }
        let json: unknown;
        try {
          json = JSON.parse(read.body.toString('utf8'));
        } catch {
          return respondError(res, '400 Bad Request', 'body is not valid JSON');
        }
        const parsed = HttpPublishBody.safeParse(json);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
          return respondError(res, '400 Bad Request', `${where}${issue?.message ?? 'invalid body'}`);
        }
        const { channel, data } = parsed.data;
        try {
          const namespace = node.namespaces.of(channel);
          if (!node.broker.isReady()) return respondError(res, '503 Service Unavailable', 'broker is not available');
          const position = await traced(
            'switchboard.publish http',
            SpanKind.SERVER,
            carrier,
            { 'messaging.destination.name': channel },
            (trace) => node.broker.publish(channel, encodeData(data), namespace.history, { trace }),
          );
          respondJson(res, '200 OK', { epoch: position.ep, offset: position.off });
        } catch (error) {
          if (error instanceof HubError) return respondError(res, '400 Bad Request', error.message);
          node.log.error({ err: error }, 'http publish failed');
          respondError(res, '503 Service Unavailable', 'broker is not available');
        }
      })
      .catch((error: unknown) => {
        node.log.error({ err: error }, 'http publish handling failed');
        respondError(res, '500 Internal Server Error', 'internal error');
      });
  };
}
