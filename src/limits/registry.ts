import type { Config } from '../config.js';
import { AddressSet, clientAddress, normalizeAddress } from './address.js';
import { type PayloadRules, PayloadValidator } from './payload.js';
import { PerIpLimiter, type PerIpVerdict } from './per-ip.js';
import { MessageRate } from './rate.js';

/** Every bound a client can hit, by name; each counts its hits (for the metrics endpoint). */
export const LIMITS = [
  /** A frame over `limits.maxFrameBytes`: close 1009. */
  'frameSize',
  /** A message over the connection's rate: error 111. */
  'messageRate',
  /** A connection that kept sending over its rate: close 4003. */
  'messageRateClose',
  /** An upgrade over `limits.maxConnectionsPerIp`: HTTP 429. */
  'connectionsPerIp',
  /** An upgrade over `limits.connectsPerSecondPerIp`: HTTP 429. */
  'connectsPerIp',
  /** No successful connect within `limits.connectTimeoutSeconds`: close 4006. */
  'connectTimeout',
  /** An upgrade from an origin not in `origins`: HTTP 403. */
  'origin',
  /** A client publish refused by its namespace's `payload` rules: error 114. */
  'payload',
  /** A connect over `limits.maxConnectionsPerUser` across hubs: error 106, close 4005. */
  'connectionsPerUser',
] as const;
export type LimitName = (typeof LIMITS)[number];

/**
 * The node-wide state of the abuse limits: per-address connection counts, payload rules and the
 * hit counters. Per-connection state (the message rate) lives in each session.
 */
export class Limits {
  readonly hits: Record<LimitName, number> = Object.fromEntries(LIMITS.map((name) => [name, 0])) as Record<
    LimitName,
    number
  >;
  readonly perIp: PerIpLimiter;
  readonly payloads: PayloadValidator;
  private readonly trusted: AddressSet;
  /** Every connection's rate limiter shares these. */
  private readonly messageRates: { readonly perSecond: number; readonly capacity: number };

  constructor(private readonly config: Config) {
    this.perIp = new PerIpLimiter(config.limits);
    this.messageRates = { perSecond: config.limits.messagesPerSecond, capacity: config.limits.messageBurst };
    this.trusted = new AddressSet(config.proxy.trusted);
    const rules = new Map<string, PayloadRules | undefined>([
      ['', config.defaultNamespace.payload],
      ...Object.entries(config.namespaces).map(([name, ns]): [string, PayloadRules | undefined] => [name, ns.payload]),
    ]);
    this.payloads = new PayloadValidator(rules);
  }

  hit(name: LimitName): void {
    this.hits[name] += 1;
  }

  /** A new connection's message rate limiter. */
  messageRate(): MessageRate {
    return new MessageRate(this.messageRates);
  }

  /** The client's address: the peer, or what a trusted proxy says the client is. */
  clientAddress(peerText: string, xForwardedFor: string, proxyProtocolText: string): string {
    const peer = normalizeAddress(peerText);
    return clientAddress(
      peer,
      this.trusted,
      { xForwardedFor, proxyProtocol: proxyProtocolText },
      this.config.proxy.protocol,
    );
  }

  /** Admits a new connection from `address` or names the refusal (HTTP status and reason). */
  admitConnection(address: string): { status: string; reason: string } | undefined {
    const verdict: PerIpVerdict = this.perIp.admit(address);
    if (verdict === 'ok') return undefined;
    if (verdict === 'too-many-connections') {
      this.hit('connectionsPerIp');
      return { status: '429 Too Many Requests', reason: 'too many connections from this address' };
    }
    this.hit('connectsPerIp');
    return { status: '429 Too Many Requests', reason: 'too many new connections from this address; retry later' };
  }
}
