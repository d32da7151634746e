import { Counter, Gauge, type Registry } from 'prom-client';
import type { DroppedReply } from './calls.js';

/** How a call ended, as its client was told. */
export type CallOutcome = 'ok' | 'service_error' | 'timeout' | 'no_route' | 'unavailable' | 'refused';

/**
 * The metrics of client calls, on the hub's registry (GET /metrics). Labels are bounded sets:
 * the route's transport, the outcome, and why a reply was dropped.
 */
export class RpcMetrics {
  private readonly calls: Counter<'transport' | 'outcome'>;
  private readonly droppedReplies: Counter<'reason'>;

  constructor(registry: Registry, pending: () => number) {
    const registers = [registry];
    this.calls = new Counter({
      name: 'switchboard_rpc_calls_total',
      help: 'Client rpc calls by transport (kafka, http, none) and outcome.',
      labelNames: ['transport', 'outcome'],
      registers,
    });
    this.droppedReplies = new Counter({
      name: 'switchboard_rpc_replies_dropped_total',
      help: 'Service replies dropped: late (after the deadline), gone (the connection closed), other_hub (for another hub on the same partition), unknown, invalid.',
      labelNames: ['reason'],
      registers,
    });
    new Gauge({
      name: 'switchboard_rpc_calls_pending',
      help: 'Client rpc calls waiting for their reply.',
      registers,
      collect() {
        this.set(pending());
      },
    });
  }

  call(transport: 'kafka' | 'http' | 'none', outcome: CallOutcome): void {
    this.calls.inc({ transport, outcome });
  }

  dropped(reason: DroppedReply): void {
    this.droppedReplies.inc({ reason });
  }
}
