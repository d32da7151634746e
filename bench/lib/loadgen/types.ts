/**
 * The requests a runner sends a load-generator process (bench/loadgen.ts) and what comes back.
 * Shared by both sides so that they cannot drift apart.
 */
import type { Format } from '../wire.js';

export type TargetKind = 'hub' | 'ceiling';
export interface Target {
  readonly host: string;
  readonly port: number;
  readonly kind: TargetKind;
  /** Wire format the connections negotiate (default msgpack). */
  readonly format?: Format;
  /** wss: (the server was started with TLS). */
  readonly tls?: boolean;
}

/** Connection `g` subscribes to `prefix + (mod > 0 ? g % mod : g)`. */
export interface ChannelPattern {
  readonly prefix: string;
  readonly mod: number;
}

export interface PublishChannel {
  readonly name: string;
  /** Subscribers of this channel held by the subscribers' process (pacing of `max`). */
  readonly fanout: number;
}

/**
 * How publications enter the server:
 *   ws           a client connection writing `pub` frames in deep batches (up to 512 per write)
 *   ws-single    a client connection writing one `pub` per write, at most 16 unacknowledged
 *   http         pipelined `POST /api/publish` on one keep-alive connection
 *   http-single  one publication per request, `connections` keep-alive connections (default 4), each
 *                awaiting its response
 *   http-batch   `POST /api/batch` with up to 512 publications per request, `connections` keep-alive
 *                connections (default 8), each awaiting its response
 *   redis        the publisher helper (switchboard/publisher) on the hub's Redis
 *   redis-many   the publisher helper's `publishMany`, up to 512 publications per call
 *   kafka        a kafkajs producer to a topic the hub ingests
 */
export type Via = 'ws' | 'ws-single' | 'http' | 'http-single' | 'http-batch' | 'redis' | 'redis-many' | 'kafka';

/** Connections to `target` numbered from `base`, subscribing by `patterns`, from loopback `sources`. */
interface ConnectionArgs {
  readonly target: Target;
  readonly base: number;
  readonly patterns: readonly ChannelPattern[];
  readonly sources: readonly string[];
}

export interface OpenArgs extends ConnectionArgs {
  readonly count: number;
  readonly concurrency?: number;
}

export interface PublishArgs {
  readonly target: Target;
  readonly via: Via;
  readonly redisUrl?: string;
  readonly kafka?: { readonly brokers: string[]; readonly topic: string };
  readonly channels: readonly PublishChannel[];
  readonly mode: 'max' | 'rate';
  /** Publications per second (mode `rate`). */
  readonly rate?: number;
  readonly durationMs: number;
  /** Deliveries published but not yet received, at most (mode `max`; also a safety bound for `rate`). */
  readonly inflight: number;
  /** Keep-alive connections of the `http-single` and `http-batch` paths. */
  readonly connections?: number;
}

export interface ChurnArgs extends ConnectionArgs {
  readonly durationMs: number;
  readonly concurrency: number;
}

export interface OpenResult {
  readonly opened: number;
  readonly failed: number;
  readonly failures: Record<string, number>;
  readonly ms: number;
}

export interface PublishResult {
  readonly published: number;
  readonly skipped: number;
  readonly ms: number;
  readonly acks: number;
  readonly errors: number;
}

export interface ChurnResult {
  readonly cycles: number;
  readonly failed: number;
  readonly failures: Record<string, number>;
  readonly ms: number;
  readonly hist: number[];
  readonly histMax: number;
}

export interface Snapshot {
  readonly delivered: number;
  readonly windowDelivered: number;
  readonly windowBytes: number;
  readonly windowFrameBytes: number;
  readonly windowMs: number;
  readonly gaps: number;
  readonly malformed: number;
  readonly published: number;
  readonly conns: number;
  readonly closes: Record<string, number>;
  readonly errors: Record<string, number>;
  readonly hist: number[];
  readonly histMax: number;
}

export interface Peek {
  readonly delivered: number;
  readonly published: number;
  readonly conns: number;
}
