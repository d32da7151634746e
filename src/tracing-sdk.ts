import {
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { Carrier, Tracer, TracingSettings } from './tracing-types.js';

/**
 * The OpenTelemetry side of tracing.ts, loaded only when tracing is enabled: the SDK registered
 * as the global tracer provider, W3C trace context as the propagator, spans exported over OTLP.
 */

const getter: TextMapGetter<Carrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

const tracer = () => trace.getTracer('switchboard');

/** Registers the SDK and returns the tracer tracing.ts hands work to. */
export function startSdk(settings: TracingSettings, exporter?: SpanExporter): Tracer {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio) }),
    spanProcessors: [
      exporter
        ? new SimpleSpanProcessor({ exporter })
        : new BatchSpanProcessor({
            exporter: new OTLPTraceExporter(settings.otlpUrl ? { url: settings.otlpUrl } : {}),
          }),
    ],
  });
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return {
    traced,
    fanout: traceFanout,
    stop: async () => {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
    },
  };
}

/**
 * Runs `work` in a span whose parent is the trace context in `carrier`, and hands it the span's
 * own `traceparent`, so the publication can carry the trace through the broker to every hub.
 */
async function traced<T>(
  name: string,
  kind: SpanKind,
  carrier: Carrier | undefined,
  attributes: Record<string, string | number>,
  work: (traceparent: string | undefined) => Promise<T>,
): Promise<T> {
  const parent = carrier ? propagation.extract(ROOT_CONTEXT, carrier, getter) : ROOT_CONTEXT;
  const span = tracer().startSpan(name, { kind, attributes }, parent);
  try {
    return await work(traceparentOf(span));
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}

/** Records this hub's fan-out of a traced publication, as a child of the span that published it. */
function traceFanout(traceparent: string, channel: string, subscribers: number): void {
  const parent = propagation.extract(ROOT_CONTEXT, { traceparent }, getter);
  tracer()
    .startSpan(
      'switchboard.fanout',
      {
        kind: SpanKind.PRODUCER,
        attributes: { 'messaging.destination.name': channel, 'switchboard.subscribers': subscribers },
      },
      parent,
    )
    .end();
}

function traceparentOf(span: Span): string | undefined {
  if (!trace.isSpanContextValid(span.spanContext())) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
  return carrier.traceparent;
}
