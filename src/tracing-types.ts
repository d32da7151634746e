/**
 * What tracing.ts (always loaded) and tracing-sdk.ts (loaded only when tracing is enabled) both
 * speak of, apart from either, so that neither imports the other's module for its types.
 */

/** The span kinds of OpenTelemetry, by the same numbers, without loading it. */
export const SpanKind = { INTERNAL: 0, SERVER: 1, CLIENT: 2, PRODUCER: 3, CONSUMER: 4 } as const;
export type SpanKind = (typeof SpanKind)[keyof typeof SpanKind];

export interface TracingSettings {
  readonly enabled: boolean;
  readonly otlpUrl?: string | undefined;
  readonly serviceName: string;
  readonly sampleRatio: number;
}

/** W3C trace context as carried in headers: `traceparent` and, optionally, `tracestate`. */
export type Carrier = Readonly<Record<string, string | undefined>>;

/** What tracing-sdk.ts provides once loaded. */
export interface Tracer {
  traced<T>(
    name: string,
    kind: SpanKind,
    carrier: Carrier | undefined,
    attributes: Record<string, string | number>,
    work: (traceparent: string | undefined) => Promise<T>,
  ): Promise<T>;
  fanout(traceparent: string, channel: string, subscribers: number): void;
  stop(): Promise<void>;
}
