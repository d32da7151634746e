import { dataProblem, ErrorCode, type RpcResult } from '@switchboard/protocol';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { HubError, notAvailable } from '../errors.js';
import type { Logger } from '../log.js';
import { postJson } from '../proxy/http.js';
import { SpanKind, traced } from '../tracing.js';
import { type CallOwner, PendingCalls } from './calls.js';
import type { RpcRoute, RpcSettings } from './config.js';
import { KafkaCalls } from './kafka-transport.js';
import { type CallOutcome, RpcMetrics } from './metrics.js';
import { ReplyEnvelope, requestValue } from './wire.js';

/** Who calls: the connection (its calls end with it) and who it acts as. */
export interface Caller {
  readonly owner: CallOwner;
  readonly connection: string;
  readonly user: string | undefined;
}

/**
 * Client calls to services (docs/rpc.md): finds the route of a method (its longest matching
 * prefix), sends the call over Kafka or HTTP and resolves with the service's reply, or rejects
 * with the HubError the client gets: 116 no route, 117 no reply within the route's deadline, 118
 * the service's error, 108 Kafka not available, 119 the HTTP endpoint failed.
 */
export class Rpc {
  readonly calls: PendingCalls;
  private readonly metrics: RpcMetrics;
  private readonly routes: readonly RpcRoute[];
  private readonly kafka: KafkaCalls | undefined;

  constructor(
    private readonly settings: RpcSettings,
    extraRoutes: readonly RpcRoute[],
    kafka: Kafka | undefined,
    hub: string,
    registry: Registry,
    log: Logger,
  ) {
    const prefixes = new Set(settings.routes.map((route) => route.prefix));
    this.routes = [...settings.routes, ...extraRoutes.filter((route) => !prefixes.has(route.prefix))].sort(
      (a, b) => b.prefix.length - a.prefix.length,
    );
    this.calls = new PendingCalls(hub, settings.maxPendingPerConnection, (reason) => this.metrics.dropped(reason));
    this.metrics = new RpcMetrics(registry, () => this.calls.size);
    const needsKafka = this.routes.some((route) => route.type === 'kafka');
    this.kafka =
      needsKafka && kafka
        ? new KafkaCalls(kafka, settings, hub, this.calls, (reason) => this.metrics.dropped(reason), log)
        : undefined;
  }

  /** The reply address this hub's Kafka calls carry (`<topic>:<partition>:<hub>`), once started. */
  get replyTo(): string | undefined {
    return this.kafka?.replyTo;
  }

  async start(): Promise<void> {
    await this.kafka?.start();
  }

  isReady(): boolean {
    return this.kafka?.isReady() ?? true;
  }

  async stop(): Promise<void> {
    await this.kafka?.stop();
  }

  /** The route that answers `method`: the one with the longest prefix of it. */
  route(method: string): RpcRoute | undefined {
    return this.routes.find((route) => method.startsWith(route.prefix));
  }

  async call(caller: Caller, method: string, data: unknown): Promise<RpcResult> {
    const route = this.route(method);
    if (!route) {
      this.metrics.call('none', 'no_route');
      throw new HubError(ErrorCode.NO_ROUTE, `no service answers method ${JSON.stringify(method)}`);
    }
    try {
      const envelope =
        route.type === 'kafka'
          ? await this.overKafka(route, caller, method, data)
          : await this.overHttp(route, caller, method, data);
      if ('error' in envelope) {
        this.metrics.call(route.type, 'service_error');
        throw new HubError(ErrorCode.SERVICE_ERROR, envelope.error.message, envelope.error.code);
      }
      this.metrics.call(route.type, 'ok');
      return envelope.data === undefined ? {} : { d: envelope.data };
    } catch (error) {
      if (error instanceof HubError && error.code !== ErrorCode.SERVICE_ERROR)
        this.metrics.call(route.type, outcomeOf(error.code));
      throw error;
    }
  }

  private async overKafka(
    route: Extract<RpcRoute, { type: 'kafka' }>,
    caller: Caller,
    method: string,
    data: unknown,
  ): Promise<ReplyEnvelope> {
    const kafka = this.kafka;
    if (!kafka?.isReady()) throw notAvailable('kafka');
    const { id, reply } = this.calls.open(caller.owner, route.timeoutMs);
    const deadline = Date.now() + route.timeoutMs;
    const key =
      route.key === 'none'
        ? null
        : route.key === 'method'
          ? method
          : route.key === 'user'
            ? (caller.user ?? caller.connection)
            : caller.connection;
    const attributes = { 'rpc.method': method, 'switchboard.connection': caller.connection };
    void traced('switchboard.rpc client', SpanKind.PRODUCER, undefined, attributes, (trace) =>
      kafka.send({
        topic: route.topic,
        key,
        correlation: id,
        method,
        value: requestValue(data),
        connection: caller.connection,
        user: caller.user,
        deadline,
        trace,
      }),
    ).catch(() => this.calls.fail(id, notAvailable('kafka')));
    return reply;
  }

  private async overHttp(
    route: Extract<RpcRoute, { type: 'http' }>,
    caller: Caller,
    method: string,
    data: unknown,
  ): Promise<ReplyEnvelope> {
    // The request dies with its connection, like a Kafka call's wait.
    const abandon = new AbortController();
    const untie = caller.owner.whenClosed(() => abandon.abort());
    const answer = await postJson(
      route.url,
      { method, data, user: caller.user, connection: caller.connection },
      { timeoutMs: route.timeoutMs, maxBytes: this.settings.maxReplyBytes, signal: abandon.signal },
      ReplyEnvelope,
    ).finally(untie);
    if (answer.ok && 'data' in answer.value && dataProblem(answer.value.data) !== undefined)
      throw new HubError(ErrorCode.BACKEND_UNAVAILABLE, "the service's endpoint answered data no client can receive");
    if (answer.ok) return answer.value;
    if (answer.reason.startsWith('no answer within'))
      throw new HubError(ErrorCode.RPC_TIMEOUT, `the service gave ${answer.reason}`);
    throw new HubError(ErrorCode.BACKEND_UNAVAILABLE, `the service's endpoint failed: ${answer.reason}`);
  }
}

function outcomeOf(code: number): CallOutcome {
  if (code === ErrorCode.RPC_TIMEOUT) return 'timeout';
  if (code === ErrorCode.NOT_AVAILABLE || code === ErrorCode.BACKEND_UNAVAILABLE) return 'unavailable';
  return 'refused';
}
