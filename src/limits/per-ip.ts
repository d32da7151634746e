import { limitKey } from './address.js';
import { TokenBucket } from './rate.js';

interface Entry {
  /** The address as first seen, shared by the connections from it. */
  readonly address: string;
  open: number;
  readonly connects: TokenBucket;
}

export interface PerIpSettings {
  readonly maxConnectionsPerIp: number;
  readonly connectsPerSecondPerIp: number;
  readonly connectBurstPerIp: number;
}

export type PerIpVerdict = 'ok' | 'too-many-connections' | 'too-many-connects';

/** Idle entries are forgotten at most this often, lazily, on the upgrade path (no timer). */
const SWEEP_INTERVAL_MS = 10_000;

/**
 * Open WebSockets and new-connection rate per client address (IPv6 per /64). An address is
 * remembered while it has open connections or its connect bucket is not yet full again.
 */
export class PerIpLimiter {
  private readonly entries = new Map<string, Entry>();
  private lastSweep = 0;

  private readonly connectRate: { readonly perSecond: number; readonly capacity: number };

  constructor(private readonly settings: PerIpSettings) {
    this.connectRate = { perSecond: settings.connectsPerSecondPerIp, capacity: settings.connectBurstPerIp };
  }

  /** Whether a new connection from `address` may be accepted; takes one connect token if so. */
  admit(address: string, now: number = performance.now()): PerIpVerdict {
    this.sweep(now);
    const key = limitKey(address);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = {
        address,
        open: 0,
        connects: new TokenBucket(this.connectRate, now),
      };
      this.entries.set(key, entry);
    }
    if (entry.open >= this.settings.maxConnectionsPerIp) return 'too-many-connections';
    if (!entry.connects.take(now)) return 'too-many-connects';
    return 'ok';
  }

  /**
   * The one string for `address` while it has an entry: every connection from an address keeps
   * it, and a copy each (~32 B) adds up over thousands of connections from one balancer.
   */
  intern(address: string): string {
    const entry = this.entries.get(limitKey(address));
    return entry?.address === address ? entry.address : address;
  }

  /** A connection from `address` opened (after `admit` said ok). */
  opened(address: string): void {
    const entry = this.entries.get(limitKey(address));
    if (entry) entry.open += 1;
  }

  closed(address: string): void {
    const entry = this.entries.get(limitKey(address));
    if (entry && entry.open > 0) entry.open -= 1;
  }

  /** Open connections from `address`. */
  openFrom(address: string): number {
    return this.entries.get(limitKey(address))?.open ?? 0;
  }

  /** Addresses remembered (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    for (const [key, entry] of this.entries) {
      if (entry.open === 0 && entry.connects.isFull(now)) this.entries.delete(key);
    }
  }
}
