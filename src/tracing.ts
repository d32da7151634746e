import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { Carrier, SpanKind, Tracer, TracingSettings } from './tracing-types.js';

/**
 * Tracing as the rest of the hub sees it. OpenTelemetry (its API, SDK and OTLP exporter: about
 * 10 MB of a hub's memory at start) is loaded only when tracing is enabled (tracing-sdk.ts).
 * Disabled, `traced` runs its work directly: with no propagator registered, OpenTelemetry would
 * neither extract a service's trace context nor make a valid span, so nothing is lost.
 */

export { type Carrier, SpanKind, type Tracer, type TracingSettings } from './tracing-types.js';

let active: Tracer | undefined;

/**
 * Loads and registers the OpenTelemetry SDK when tracing is enabled (or a test gives its own
 * exporter). Returns what flushes and stops it.
 */
export async function startTracing(settings: TracingSettings, exporter?: SpanExporter): Promise<() => Promise<void>> {
  if (!settings.enabled && !exporter) return async () => undefined;
  const { startSdk } = await import('./tracing-sdk.js');
  const tracer = startSdk(settings, exporter);
  active = tracer;
  return async () => {
    if (active === tracer) active = undefined;
    await tracer.stop();
  };
}

/**
 * Runs `work` in a span whose parent is the trace context in `carrier`, and hands it the span's
 * own `traceparent`, so the publication can carry the trace through the broker to every hub.
 */
export function traced<T>(
  name: string,
  kind: SpanKind,
  carrier: Carrier | undefined,
  attributes: Record<string, string | number>,
  work: (traceparent: string | undefined) => Promise<T>,
): Promise<T> {
  return active ? active.traced(name, kind, carrier, attributes, work) : work(undefined);
}

/** Records this hub's fan-out of a traced publication, as a child of the span that published it. */
export function traceFanout(traceparent: string, channel: string, subscribers: number): void {
  active?.fanout(traceparent, channel, subscribers);
}
