import { encodeData } from '@switchboard/protocol';
import type { Broker } from '../brokers/broker.js';
import type { Logger } from '../log.js';
import type { Namespaces } from '../namespaces.js';

/** The channels the demo page shows; all in the `demo` namespace. */
export const DEMO_CHANNELS = {
  orders: 'demo:orders',
  latency: 'demo:latency',
  alerts: 'demo:alerts',
  chat: 'demo:chat',
} as const;

const REGIONS = ['eu-west', 'us-east', 'ap-south'] as const;
const SERVICES = ['checkout', 'payments', 'search', 'inventory'] as const;
const ALERTS: readonly (readonly ['info' | 'warning' | 'critical', string])[] = [
  ['info', 'deploy finished'],
  ['info', 'cache warmed'],
  ['warning', 'p99 latency above 250 ms'],
  ['warning', 'queue depth rising'],
  ['critical', 'error rate above 5%'],
];

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;
const between = (low: number, high: number) => low + Math.random() * (high - low);

/**
 * Simulated services for the demo (`demo.enabled`): a checkout service publishing orders, a
 * gateway its latency once a second, an alerting system now and then, and an ops bot that posts
 * to the chat when an alert is critical. About 3 publications per second in all, through the
 * broker like any service's, so the page shows rates, history and recovery on real channels.
 */
export class SimulatedServices {
  private readonly timers = new Set<NodeJS.Timeout>();
  private orderNumber = 1000;
  private p99 = 120;
  private running = false;

  constructor(
    private readonly broker: Broker,
    private readonly namespaces: Namespaces,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.running = true;
    this.every(
      () => between(250, 1_000),
      () => this.order(),
    );
    this.every(
      () => 1_000,
      () => this.latency(),
    );
    this.every(
      () => between(4_000, 9_000),
      () => this.alert(),
    );
  }

  stop(): void {
    this.running = false;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private order(): void {
    this.orderNumber += 1;
    const amount = Math.round(between(5, 240) * 100) / 100;
    this.publish(DEMO_CHANNELS.orders, { id: `A-${this.orderNumber}`, amount, region: pick(REGIONS), at: Date.now() });
  }

  private latency(): void {
    // A random walk, pulled back toward 120 ms, with an occasional spike.
    this.p99 = Math.max(40, this.p99 + between(-15, 15) + (120 - this.p99) * 0.1 + (Math.random() < 0.05 ? 150 : 0));
    const p99 = Math.round(this.p99);
    const p50 = Math.round(p99 * between(0.3, 0.45));
    this.publish(DEMO_CHANNELS.latency, {
      service: 'gateway',
      p50,
      p99,
      rps: Math.round(between(800, 1_400)),
      at: Date.now(),
    });
  }

  private alert(): void {
    const [level, message] = pick(ALERTS);
    const service = pick(SERVICES);
    const at = Date.now();
    this.publish(DEMO_CHANNELS.alerts, { level, service, message, at });
    if (level === 'critical')
      this.publish(DEMO_CHANNELS.chat, {
        name: 'ops-bot',
        text: `${service}: ${message}; paging on-call`,
        at,
        bot: true,
      });
  }

  private publish(channel: string, data: Record<string, unknown>): void {
    if (!this.broker.isReady()) return;
    // From a promise, so that a refusal (strict namespaces without `demo`) is logged, not thrown.
    Promise.resolve()
      .then(() => this.broker.publish(channel, encodeData(data), this.namespaces.of(channel).history))
      .catch((error: unknown) => this.log.debug({ err: error, channel }, 'demo publish failed'));
  }

  private every(delayMs: () => number, tick: () => void): void {
    const schedule = () => {
      if (!this.running) return;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        tick();
        schedule();
      }, delayMs());
      timer.unref();
      this.timers.add(timer);
    };
    schedule();
  }
}
