import type { Position } from '@switchboard/protocol';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { z } from 'zod';
import type {
  ChannelRead,
  HistoryOptions,
  PositionedPublication,
  PublishExtras,
  ReadQuery,
  SourceAnchor,
} from './broker.js';
import { newEpoch } from './epoch.js';
import { PublishBatcher, type PublishCall } from './publish-batch.js';
import { redisConnection } from './redis-connect.js';
import { RedisKeys } from './redis-keys.js';
import {
  HISTORY_SCRIPT,
  POSITION_SCRIPT,
  PUBLISH_MAX_ITEMS,
  PUBLISH_SCRIPT,
  SHARDED_PUBLISH_SCRIPT,
} from './redis-scripts.js';
import { parseAnchor } from './source-anchors.js';

/** A command connection: one Redis, or a Redis Cluster (which routes each command by its key's slot). */
export type RedisCommands = Redis | Cluster;

export interface RedisStoreSettings {
  readonly url: string;
  readonly prefix: string;
  /** How long a channel's epoch and offset outlive its last publication. */
  readonly positionTtlSeconds: number;
  /** How long any command may take before it fails (`broker.commandTimeoutMs`). */
  readonly commandTimeoutMs: number;
}

/** `broker.commandTimeoutMs`'s default, for connections made outside a hub's configuration. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2_000;

/**
 * Fail fast while Redis is away, and within `commandTimeoutMs` while it is there but does not
 * answer (paused, swapping): callers turn either error into a temporary error code.
 */
export function failFast(commandTimeoutMs: number): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
  };
}

/** `{epoch, offset1, duplicate1, …}` (redis-scripts.ts). */
const PublishReply = z.tuple([z.string()]).rest(z.number().int());
/** Data bytes per publish call: a call of 256 publications of 1 KiB takes Redis about 1 ms. */
const PUBLISH_MAX_BYTES = 512 * 1024;
const PositionReply = z.tuple([z.string(), z.number().int()]);
const HistoryEntry = z.tuple([z.instanceof(Buffer), z.array(z.instanceof(Buffer))]);
const HistoryReply = z.tuple([
  z.instanceof(Buffer),
  z.number().int(),
  z.number().int(),
  z.array(HistoryEntry),
  z.array(z.instanceof(Buffer)),
]);

type ScriptCall = (...args: Array<string | Buffer | number>) => Promise<unknown>;

/**
 * Channel positions and history in Redis, on one command connection. Publishing runs one Lua
 * script that assigns the next offsets, appends to the channel's stream and publishes the
 * envelopes atomically, so offsets stay contiguous per channel whoever publishes (I3,
 * docs/architecture.md). Concurrent publishes are coalesced per turn of the event loop into one
 * script call per channel, all in one pipeline (publish-batch.ts).
 */
export class RedisStore {
  readonly redis: RedisCommands;
  readonly keys: RedisKeys;
  private readonly scripts: { publish: ScriptCall; position: ScriptCall; history: ScriptCall };
  private readonly batcher: PublishBatcher;

  /**
   * On `settings.url` by default; `cluster` is a Redis Cluster connection, where every key and the
   * envelope channel of a channel share its slot and the publish script delivers with SPUBLISH.
   */
  constructor(
    private readonly settings: RedisStoreSettings,
    cluster?: Cluster,
  ) {
    this.keys = new RedisKeys(settings.prefix, cluster !== undefined);
    this.redis =
      cluster ??
      redisConnection(settings.url, { ...failFast(settings.commandTimeoutMs), connectionName: 'switchboard-commands' });
    for (const [name, lua] of [
      ['sbPublish', cluster ? SHARDED_PUBLISH_SCRIPT : PUBLISH_SCRIPT],
      ['sbPosition', POSITION_SCRIPT],
      ['sbHistory', HISTORY_SCRIPT],
    ] as const) {
      this.redis.defineCommand(name, { numberOfKeys: 4, lua });
    }
    const commands = this.redis as unknown as Record<string, ScriptCall>;
    const bind = (name: string): ScriptCall => {
      const call = commands[name];
      if (!call) throw new Error(`script ${name} was not defined`);
      return call.bind(this.redis);
    };
    this.scripts = { publish: bind('sbPublish'), position: bind('sbPosition'), history: bind('sbHistoryBuffer') };
    this.batcher = new PublishBatcher({ maxItems: PUBLISH_MAX_ITEMS, maxBytes: PUBLISH_MAX_BYTES }, (calls) =>
      this.send(calls),
    );
  }

  /**
   * Resolves with the publication's position once Redis applied it. Publishes of a channel made
   * in order (even without awaiting each) are applied in that order.
   */
  publish(channel: string, data: Uint8Array, history: HistoryOptions, extras: PublishExtras = {}): Promise<Position> {
    return this.batcher.publish(channel, data, history, extras);
  }

  /**
   * One turn's publish calls, each one EVALSHA written straight to the connection: they leave
   * back to back and Redis runs them in order. (An ioredis pipeline object per turn cost more
   * than it saved: 250 µs of CPU per publish with one publish in flight.)
   */
  private send(calls: readonly PublishCall[]): void {
    const epoch = newEpoch();
    // Corked, the turn's calls leave in one write instead of one system call each.
    // (A cluster has a connection per master; its calls go out as ioredis routes them.)
    const stream = 'stream' in this.redis && this.redis.status === 'ready' ? this.redis.stream : undefined;
    stream?.cork();
    try {
      this.sendCalls(calls, epoch);
    } finally {
      stream?.uncork();
    }
  }

  private sendCalls(calls: readonly PublishCall[], epoch: string): void {
    for (const call of calls) {
      const args: Array<string | Buffer | number> = [
        ...this.keys.of(call.channel),
        this.keys.envelope(call.channel),
        call.history.size,
        call.history.ttlMs,
        epoch,
        this.positionTtl(call.history),
        call.history.anchors ? '1' : '0',
      ];
      for (const { data, extras } of call.items) {
        const { idempotency } = extras;
        args.push(
          Buffer.from(data.buffer, data.byteOffset, data.byteLength),
          idempotency ? `k:${idempotency.source}` : '',
          idempotency?.sequence ?? 0,
          extras.trace ?? '',
        );
      }
      this.scripts.publish(...args).then(
        (reply) => settle(call, reply),
        (error: unknown) => rejectAll(call, error instanceof Error ? error : new Error('Redis publish failed')),
      );
    }
  }

  async read(channel: string, query: ReadQuery): Promise<ChannelRead> {
    if (query.limit === 0) {
      const reply = await this.scripts.position(...this.keys.of(channel), newEpoch(), this.settings.positionTtlSeconds);
      const [ep, off] = PositionReply.parse(reply);
      return { top: { ep, off }, publications: [] };
    }
    const reply = await this.scripts.history(
      ...this.keys.of(channel),
      newEpoch(),
      this.settings.positionTtlSeconds,
      query.after + 1,
      query.limit,
      query.sources ? '1' : '0',
    );
    const [epochBytes, topOffset, now, entries, anchors] = HistoryReply.parse(reply);
    const top = { ep: epochBytes.toString('latin1'), off: topOffset };
    const publications: PositionedPublication[] = [];
    for (const [id, fields] of entries) {
      const off = Number(id.toString('latin1').slice(2));
      if (off > top.off) break;
      const entry = fieldsOf(fields);
      // Entries expire oldest first: an expired one is as good as trimmed.
      if (!entry || entry.expiresAt <= now) continue;
      publications.push({ channel, position: { ep: top.ep, off }, data: entry.data });
    }
    if (!query.sources) return { top, publications };
    const sources = anchors.map((entry) => parseAnchor(entry.toString('latin1')));
    // A list with an entry it cannot read is not used at all: a missing anchor would make a
    // replay count one source's records across another's.
    if (sources.some((anchor) => anchor === undefined)) return { top, publications, sources: [] };
    return { top, publications, sources: sources as SourceAnchor[] };
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
    this.redis.disconnect();
  }

  /** The meta hash must outlive the history it describes, or a reader would see a fresh epoch. */
  private positionTtl(history: HistoryOptions): number {
    return Math.max(this.settings.positionTtlSeconds, Math.ceil(history.ttlMs / 1000));
  }
}

/** Settles a call's items with its reply: a position each. */
function settle(call: PublishCall, reply: unknown): void {
  const parsed = PublishReply.safeParse(reply);
  if (!parsed.success || parsed.data.length !== 1 + 2 * call.items.length) {
    rejectAll(call, new Error('unexpected publish reply from Redis'));
    return;
  }
  const [ep, ...offsets] = parsed.data;
  for (const [j, item] of call.items.entries()) item.resolve({ ep, off: offsets[2 * j] as number });
}

function rejectAll(call: PublishCall, error: Error): void {
  for (const item of call.items) item.reject(error);
}

function fieldsOf(fields: Buffer[]): { data: Buffer; expiresAt: number } | undefined {
  let data: Buffer | undefined;
  let expiresAt: number | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const key = fields[i]?.toString('latin1');
    if (key === 'd') data = fields[i + 1];
    else if (key === 'x') expiresAt = Number(fields[i + 1]?.toString('latin1'));
  }
  return data && expiresAt !== undefined && Number.isFinite(expiresAt) ? { data, expiresAt } : undefined;
}
