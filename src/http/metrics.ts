import type { HttpResponse } from 'uWebSockets.js';
import type { Metrics } from '../metrics.js';
import { isAborted, respondError, trackAbort } from './respond.js';

/** `GET /metrics`: the Prometheus text format. */
export function handleMetrics(metrics: Metrics) {
  return (res: HttpResponse): void => {
    trackAbort(res);
    metrics.registry.metrics().then(
      (text) => {
        if (isAborted(res)) return;
        res.cork(() => {
          res.writeStatus('200 OK').writeHeader('content-type', metrics.registry.contentType).end(text);
        });
      },
      () => respondError(res, '500 Internal Server Error', 'metrics unavailable'),
    );
  };
}
