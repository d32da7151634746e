import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import {
  AccessRule,
  AuthSettings,
  HttpSettings,
  Origin,
  PayloadSettings,
  ProxySettings,
  TlsSettings,
} from './auth/config.js';
import { schemaProblem } from './limits/payload.js';
import { optional } from './optional.js';
import { NamespacePresence, PresenceSettings } from './presence/config.js';
import { ProxyHooks } from './proxy/config.js';
import { RpcSettings } from './rpc/config.js';

const KiB = 1024;
const MiB = 1024 * KiB;

const KafkaTopic = z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name');
const RedisUrl = z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL');
/** Where the broker's Redis may also be a Sentinel-managed group: `redis+sentinel://host:port[,…]/<master>`. */
const BrokerRedisUrl = z
  .string()
  .regex(
    /^(rediss?:\/\/|redis\+sentinel:\/\/[^/\s]+\/[^/\s]+$)/,
    'must be a redis://, rediss:// or redis+sentinel://host:port[,host:port]/<master name> URL',
  );

/**
 * A channel's history is sized by time: everything of the last two minutes, so that a client away
 * that long (a train tunnel, a laptop lid, a hub restart) resumes without a gap, up to a bound per
 * channel that caps what one busy channel may hold (10,000 is 83 publications per second for the
 * whole two minutes). Measured with the defaults of 100 and 5 minutes: a 2 s outage at 100 msg/s
 * on one channel answered `trimmed` on every reconnect and 51.8% was delivered.
 */
const HistorySettings = z.strictObject({
  /** Publications kept per channel at most, however recent; 0 keeps none. */
  size: z.number().int().min(0).max(100_000).default(10_000),
  /** How long a publication stays in history: a client away this long recovers everything. */
  ttlSeconds: z
    .number()
    .int()
    .min(1)
    .max(30 * 24 * 3600)
    .default(120),
});

/** Where client publishes of a namespace go instead of the broker, acknowledged once accepted there. */
const EgressSettings = z.discriminatedUnion('type', [
  /** A Kafka topic: key = channel, headers carry the user, connection and time; acks=all, idempotent. */
  z.strictObject({ type: z.literal('kafka'), topic: KafkaTopic }),
  /** A Redis stream (XADD with fields channel, data, user, connection, ts), bounded by maxLen. */
  z.strictObject({
    type: z.literal('redis-stream'),
    url: RedisUrl.optional(),
    stream: z.string().min(1),
    maxLen: z.number().int().min(1).default(1_000_000),
  }),
  /** A Redis pub/sub channel: live only, acknowledged once Redis accepted the PUBLISH. */
  z.strictObject({ type: z.literal('redis-pubsub'), url: RedisUrl.optional(), channel: z.string().min(1) }),
]);
export type EgressSettings = z.infer<typeof EgressSettings>;

/** What applies to the channels of one namespace (the part of a channel name before the first `:`). */
export const NamespaceSettings = z.strictObject({
  history: HistorySettings.prefault({}),
  /** Whether clients may publish into this namespace. */
  clientPublish: z.boolean().default(true),
  /** Kafka topic whose events feed this namespace's channels (message key or `channel` header = channel). */
  kafkaIngress: z
    .strictObject({
      topic: KafkaTopic,
      /**
       * A resuming `sub` whose `since` history no longer reaches gets what history trimmed read
       * from the topic (while Kafka retains it), then joins as usual (docs/operations.md, replay).
       */
      replay: z.boolean().default(false),
    })
    .optional(),
  /** Where client publishes go; without it they go to the broker and reach subscribers directly. */
  egress: EgressSettings.optional(),
  /** Who may subscribe (with `auth`; default `granted`): public, authenticated, user or granted. */
  subscribe: AccessRule.optional(),
  /** Who may publish (with `auth`; default `granted`); `clientPublish: false` still forbids everyone. */
  publish: AccessRule.optional(),
  /** Limits on what clients publish here: `maxBytes`, a JSON `schema`. */
  payload: PayloadSettings.optional(),
  /** Who is subscribed, and join/leave pushes (docs/server-api.md, presence). */
  presence: NamespacePresence.prefault({}),
  /**
   * Whether subscribers may ask for fossil deltas (`sub` with `delta: "fossil"`, protocol §3.3):
   * each publication as a delta against the previous one, computed once per publication.
   */
  delta: z.boolean().default(false),
  /**
   * Subscriptions with `maxRate` (protocol §3.1) get the latest publication per period; with
   * `key`, the latest per value of that field of the data (a ticker's `symbol`), so that no key is
   * starved by a busier one.
   */
  conflation: z.strictObject({ key: z.string().min(1).max(64).optional() }).prefault({}),
  /**
   * `append`: channels are streams appended to and read whole (an LLM answer's tokens, a log):
   * `history` and `maxRecovery` default to whole answers (APPEND_DEFAULTS) instead of two minutes.
   */
  mode: z.enum(['default', 'append']).default('default'),
  /** Publications one resuming `sub` may replay here; default `limits.maxRecoveryPublications`. */
  maxRecovery: z.number().int().min(0).max(100_000).optional(),
});
export type NamespaceSettings = z.infer<typeof NamespaceSettings>;

/**
 * What `mode: append` sizes for: 50,000 tokens is about 25 answers of 2,000 tokens kept per
 * channel for an hour, so a page reloaded during or after an answer replays all of it (with the
 * two-minute defaults a 1,500-token answer was already `too_many_missed` for some readers).
 */
export const APPEND_DEFAULTS = { history: { size: 50_000, ttlSeconds: 3600 }, maxRecovery: 50_000 } as const;

/** A namespace's settings as written, with `mode: append`'s defaults under what the file says. */
const NamespaceInput = z.preprocess((raw) => {
  if (typeof raw !== 'object' || raw === null || (raw as { mode?: unknown }).mode !== 'append') return raw;
  const given = raw as { history?: object; maxRecovery?: number };
  return {
    ...raw,
    history: { ...APPEND_DEFAULTS.history, ...given.history },
    maxRecovery: given.maxRecovery ?? APPEND_DEFAULTS.maxRecovery,
  };
}, NamespaceSettings);

const MemoryBrokerSettings = z.strictObject({
  type: z.literal('memory'),
  /**
   * Bytes of history the whole hub keeps, over every channel: with history sized by time, a busy
   * hub would otherwise hold whatever its channels published in two minutes. Past it, the oldest
   * publications of the hub go first, whichever channel they belong to (docs/operations.md).
   */
  maxHistoryBytes: z
    .number()
    .int()
    .min(MiB)
    .max(64 * 1024 * MiB)
    .default(128 * MiB),
});
const RedisBrokerSettings = z
  .strictObject({
    type: z.literal('redis'),
    url: BrokerRedisUrl.default('redis://127.0.0.1:6379'),
    /** Prefix of every key and pub/sub channel; services `PUBLISH <prefix><channel>` for live-only delivery. */
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_\-.:]*$/, 'letters, digits and _ - . : only')
      .default('sb:'),
    /** How long a channel's epoch and offset outlive its last publication or subscription. */
    positionTtlSeconds: z
      .number()
      .int()
      .min(60)
      .default(7 * 24 * 3600),
    /**
     * Seconds between checks of every channel's position against Redis (0: never). Pub/sub loses
     * what is published while a hub's connection is cut; a reconnect triggers a check at once, and
     * this bounds how long any other loss on a quiet channel goes unnoticed (two intervals).
     */
    positionCheckSeconds: z.number().int().min(0).max(3600).default(30),
    /**
     * Milliseconds any Redis command may take. Past it the command fails: a publish answers 503 or
     * the temporary error 108, and the hub turns not ready until Redis answers again. Without it a
     * paused Redis held publishers for as long as it was paused (measured: 5 s for a 5 s pause).
     * Redis answers in well under a millisecond on a sound network; a read of a full history
     * (10,000 publications) takes a few.
     */
    commandTimeoutMs: z.number().int().min(100).max(60_000).default(2_000),
    /**
     * A Redis Cluster instead of one Redis (`url` is then unused): seed nodes, any of which tells
     * the hub about the rest. Each channel lives on the master of its slot, delivered with sharded
     * pub/sub (docs/operations.md, Redis Cluster).
     */
    cluster: z.array(RedisUrl).min(1).max(64).optional(),
    /**
     * Independent Redis instances the channels are spread over by a stable hash of the channel
     * (`url` is then unused). Adding one is a planned operation: docs/operations.md, shards.
     */
    shards: z.array(BrokerRedisUrl).min(1).max(64).optional(),
  })
  .refine((broker) => !(broker.cluster && broker.shards), {
    message: 'cluster and shards exclude each other',
    path: ['shards'],
  });
const BrokerSettings = z.discriminatedUnion('type', [MemoryBrokerSettings, RedisBrokerSettings]);

const LimitSettings = z.strictObject({
  /** Largest frame a client may send; larger ones close the socket with 1009. */
  maxFrameBytes: z
    .number()
    .int()
    .min(256)
    .max(16 * MiB)
    .default(64 * KiB),
  maxSubscriptionsPerConnection: z.number().int().min(1).max(100_000).default(512),
  /** Distinct channels with local subscribers on one hub. */
  maxChannelsPerNode: z.number().int().min(1).max(10_000_000).default(500_000),
  /** Bytes queued for one slow client before it is closed with 4001 (it reconnects and recovers). */
  maxBackpressureBytes: z
    .number()
    .int()
    .min(16 * KiB)
    .max(256 * MiB)
    .default(4 * MiB),
  /** Seconds a socket may stay silent; the transport pings before closing it. Multiple of 4, at least 8. */
  idleTimeoutSeconds: z
    .number()
    .int()
    .min(8)
    .max(960)
    .refine((n) => n % 4 === 0, { message: 'must be a multiple of 4' })
    .default(64),
  /** Seconds a new socket has to send its connect frame. */
  connectTimeoutSeconds: z.number().int().min(1).max(300).default(10),
  /**
   * Publications a subscribe with `since` may replay; more missed than that is not recovered.
   * As large as a channel's default history, so that whatever history holds is recovered: at
   * 1,000, cuts every 2 s at 200 msg/s delivered 33–50% (`too_many_missed`).
   */
  maxRecoveryPublications: z.number().int().min(0).max(100_000).default(10_000),
  /** Bytes of an HTTP request's line and headers (upgrades included); more get HTTP 431. */
  maxHttpHeaderBytes: z
    .number()
    .int()
    .min(KiB)
    .max(256 * KiB)
    .default(16 * KiB),
  maxHttpBodyBytes: z
    .number()
    .int()
    .min(KiB)
    .max(64 * MiB)
    .default(MiB),
  /** Messages one connection may send per second on average (token bucket refill rate). */
  messagesPerSecond: z.number().int().min(1).max(1_000_000).default(200),
  /** Messages one connection may send at once (token bucket size); more get error 111. */
  messageBurst: z.number().int().min(1).max(1_000_000).default(1_000),
  /** Open WebSockets per client address (IPv6: per /64); more are refused with HTTP 429. */
  maxConnectionsPerIp: z.number().int().min(1).max(10_000_000).default(1_000),
  /** New WebSockets per second per client address (token bucket refill rate); more get HTTP 429. */
  connectsPerSecondPerIp: z.number().int().min(1).max(1_000_000).default(100),
  /** New WebSockets per client address at once (token bucket size). */
  connectBurstPerIp: z.number().int().min(1).max(1_000_000).default(500),
  /** Open connections per user (token `sub`) across every hub; 0 for no limit. More are closed with 4005. */
  maxConnectionsPerUser: z.number().int().min(0).max(1_000_000).default(0),
});

const KafkaSettings = z.strictObject({
  brokers: z.array(z.string().regex(/^[^\s:]+:\d+$/, 'host:port')).min(1),
  clientId: z.string().min(1).default('switchboard'),
  /** Consumer group shared by every hub, so the cluster consumes each ingress event once. */
  groupId: z.string().min(1).default('switchboard-ingress'),
  /** A consumer that fetched nothing for this long while running is restarted (kafkajs can stall silently). */
  stallTimeoutSeconds: z.number().int().min(15).max(3600).default(60),
  /** Milliseconds without heartbeats before the group gives a dead hub's partitions to the others. */
  sessionTimeoutMs: z.number().int().min(6_000).max(300_000).default(30_000),
  /**
   * Partitions a hub hands to the broker at once (kafkajs' partitionsConsumedConcurrently): with
   * 1, a hub consuming 12 partitions would publish one partition's batch at a time.
   */
  partitionsConsumedConcurrently: z.number().int().min(1).max(256).default(16),
  /** Where a new consumer group starts reading: only new events, or the topics' retained history. */
  fromBeginning: z.boolean().default(false),
  /** Milliseconds a client publish waits for the egress topic to acknowledge it. */
  produceTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  /** Bounds on reading what history trimmed from ingress topics (`kafkaIngress.replay`). */
  replay: z
    .strictObject({
      /** Partition reads a hub runs at once; more wait in line. */
      concurrency: z.number().int().min(1).max(64).default(4),
      /** Reads waiting for a turn; beyond them a resume is answered `trimmed` at once. */
      queue: z.number().int().min(0).max(10_000).default(64),
      /** Kafka records one replay reads at most, the channel's and others' of the partition. */
      maxRecords: z.number().int().min(1).max(10_000_000).default(200_000),
      /**
       * Milliseconds one replay may take, group join included (a Kafka broker's
       * `group.initial.rebalance.delay.ms`, 3 s by default, delays each: set it low).
       */
      timeoutMs: z.number().int().min(500).max(60_000).default(4_000),
    })
    .prefault({}),
});

const TracingSettings = z.strictObject({
  /** Export OpenTelemetry spans (ingress, fan-out, publishes); off by default. */
  enabled: z.boolean().default(false),
  /** OTLP/HTTP traces endpoint; default http://localhost:4318/v1/traces (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). */
  otlpUrl: z.url().optional(),
  serviceName: z.string().min(1).default('switchboard'),
  /** Fraction of traces started here that are sampled; traces started by a service follow its decision. */
  sampleRatio: z.number().min(0).max(1).default(1),
});

export const Config = z
  .strictObject({
    /** This hub's name in logs and in connect replies; defaults to the host name and process id. */
    name: z
      .string()
      .min(1)
      .max(128)
      .default(() => `${hostname()}-${process.pid}`),
    host: z.string().min(1).default('0.0.0.0'),
    port: z.number().int().min(0).max(65_535).default(8080),
    /** Run on uWebSockets.js' slow pure-JS fallback when the native binary cannot load (never in production). */
    allowFallbackTransport: z.boolean().default(false),
    log: z
      .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .prefault({}),
    broker: BrokerSettings.prefault({ type: 'memory' }),
    tracing: TracingSettings.prefault({}),
    /** How presence is kept, for the namespaces that enable it. */
    presence: PresenceSettings.prefault({}),
    /** The server API: how long a command that concerns every hub waits for their answers. */
    api: z.strictObject({ deadlineMs: z.number().int().min(100).max(60_000).default(2_000) }).prefault({}),
    /** Kafka cluster for namespaces with `kafkaIngress` or a `kafka` egress. */
    kafka: KafkaSettings.optional(),
    limits: LimitSettings.prefault({}),
    /** Seconds between an idle client's pings. */
    clientPingSeconds: z.number().int().min(1).max(3600).default(25),
    /**
     * Seconds a stopping hub stays up but not ready before it moves its clients: it refuses new
     * WebSockets and keeps serving its connections and HTTP publishes while the balancer notices
     * `/readyz` and stops routing here. At least the balancer's health check interval times the
     * failures it needs (HAProxy's default 2 s × 3 = 6 s; a Kubernetes readiness probe of 5 s ×
     * 2 = 10 s). The hub never exits before it, even with no client left.
     */
    shutdownDelaySeconds: z.number().min(0).max(600).default(6),
    /**
     * Seconds over which a stopping hub moves its clients, after `shutdownDelaySeconds`: each gets
     * a `drain` push within the first half, and opens its next connection before it leaves this
     * one; those still connected at the end are closed with 4000.
     */
    shutdownGraceSeconds: z.number().int().min(0).max(3600).default(5),
    /** Settings for channels of namespaces not listed in `namespaces`. */
    defaultNamespace: NamespaceInput.prefault({}),
    namespaces: z
      .record(
        z.string().regex(/^[A-Za-z0-9_\-.@=/,]+$/, 'namespace names use channel characters except ":"'),
        NamespaceInput,
      )
      .default({}),
    /** Refuse channels of namespaces not listed in `namespaces` (error 102) instead of applying `defaultNamespace`. */
    strictNamespaces: z.boolean().default(false),
    /** JWT authentication; absent, every client may subscribe and publish anywhere (development only). */
    auth: AuthSettings.optional(),
    /** Browser origins allowed to open WebSockets (exact match); empty allows any origin. */
    origins: z.array(Origin).default([]),
    /**
     * Proxies whose forwarded client address is believed (per-IP limits, logs), and proxy hooks:
     * HTTP backends that decide connects, refreshes, subscribes and publishes (docs/proxy.md).
     */
    proxy: ProxySettings.extend(ProxyHooks).prefault({}),
    /** Serve TLS (wss://, https://) with this certificate and key. */
    tls: TlsSettings.optional(),
    /** The HTTP API for services. */
    http: HttpSettings.prefault({}),
    /**
     * The demo at `/`: simulated services publish to channels of the `demo` namespace, a few per
     * second. On for a laptop's `npm start`; off in production, where nobody should see them.
     */
    demo: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
    /** Client `rpc` calls: routes by method prefix to Kafka topics or HTTP endpoints (docs/rpc.md). */
    rpc: RpcSettings.prefault({}),
    /** The admin view at `/admin` (needs `http.apiKey` when set, else serves loopback only). */
    admin: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
  })
  .superRefine((config, context) => {
    const all: Array<[string[], NamespaceSettings]> = [
      [['defaultNamespace'], config.defaultNamespace],
      ...Object.entries(config.namespaces).map(([name, ns]): [string[], NamespaceSettings] => [
        ['namespaces', name],
        ns,
      ]),
    ];
    for (const [path, ns] of all) {
      for (const rule of ['subscribe', 'publish'] as const) {
        if (ns[rule] !== undefined && !config.auth) {
          context.addIssue({ code: 'custom', path: [...path, rule], message: 'needs the auth settings' });
        }
      }
      const schema = ns.payload?.schema;
      const problem = schema === undefined ? undefined : schemaProblem(schema);
      if (problem) context.addIssue({ code: 'custom', path: [...path, 'payload', 'schema'], message: problem });
      if ((ns.kafkaIngress || ns.egress?.type === 'kafka') && !config.kafka) {
        context.addIssue({
          code: 'custom',
          path: [...path, ns.kafkaIngress ? 'kafkaIngress' : 'egress'],
          message: 'needs the top-level kafka settings',
        });
      }
      if (
        (ns.egress?.type === 'redis-stream' || ns.egress?.type === 'redis-pubsub') &&
        !ns.egress.url &&
        (config.broker.type !== 'redis' || config.broker.cluster || config.broker.shards)
      ) {
        context.addIssue({
          code: 'custom',
          path: [...path, 'egress', 'url'],
          message: 'required unless the broker is one redis (not a cluster or shards)',
        });
      }
    }
    config.rpc.routes.forEach((route, index) => {
      if (route.type === 'kafka' && !config.kafka)
        context.addIssue({
          code: 'custom',
          path: ['rpc', 'routes', index],
          message: 'needs the top-level kafka settings',
        });
    });
    if (config.defaultNamespace.kafkaIngress) {
      context.addIssue({
        code: 'custom',
        path: ['defaultNamespace', 'kafkaIngress'],
        message: 'Kafka ingress feeds a named namespace; set it under namespaces.<name>',
      });
    }
  });
export type Config = z.infer<typeof Config>;

/** A configuration problem, reported as `key: problem` lines; the CLI exits with code 2 on it. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const ENV_PREFIX = 'SWITCHBOARD_';
/** Variables of the CLI's client commands, not config paths (a hub given them must not choke on them). */
const ENV_RESERVED = new Set([
  'SWITCHBOARD_CONFIG',
  'SWITCHBOARD_URL',
  'SWITCHBOARD_TOKEN_SECRET',
  'SWITCHBOARD_API_URL',
  'SWITCHBOARD_API_KEY',
]);

/**
 * Builds the configuration from an optional YAML/JSON file, then environment variables:
 * `PORT` and `HOST`, and `SWITCHBOARD_<PATH>` where `__` separates keys and each key is in
 * UPPER_SNAKE case (e.g. `SWITCHBOARD_LIMITS__MAX_FRAME_BYTES=1024`). Values are parsed as JSON
 * when they can be, otherwise taken as strings.
 */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  const raw = file ? readConfigFile(file) : {};
  const overrides: Array<[string[], string]> = [];
  if (env.PORT !== undefined) overrides.push([['port'], env.PORT]);
  if (env.HOST !== undefined) overrides.push([['host'], env.HOST]);
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || ENV_RESERVED.has(name) || value === undefined) continue;
    overrides.push([name.slice(ENV_PREFIX.length).split('__').map(snakeToCamel), value]);
  }
  for (const [path, value] of overrides) setPath(raw, path, parseEnvValue(value));
  try {
    return parseConfig(raw);
  } catch (error) {
    // A value that reads as JSON (an all-digit API key, `true`) may be meant as text: where the
    // schema wants a string there, give it the variable's text and try once more.
    if (!(error instanceof ConfigError)) throw error;
    const asText = overrides.filter(([path]) => error.problems.some((p) => p.startsWith(`${path.join('.')}: `)));
    if (asText.length === 0) throw error;
    for (const [path, value] of asText) setPath(raw, path, value);
    return parseConfig(raw);
  }
}

export function parseConfig(raw: unknown): Config {
  const result = Config.safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k].join('.')) : [];
      const where = keys.length > 0 ? keys.join(', ') : issue.path.join('.') || '(root)';
      return `${where}: ${issue.message}`;
    }),
  );
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`config file ${file}: ${(error as Error).message}`]);
  }
  let value: unknown;
  try {
    // yaml is loaded only for a configuration file: a hub on the defaults does not pay for it.
    const { parse } = optional<typeof import('yaml')>('yaml');
    value = parse(text);
  } catch (error) {
    throw new ConfigError([`config file ${file}: not valid YAML or JSON: ${(error as Error).message}`]);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError([`config file ${file}: must hold a mapping of keys`]);
  return value as Record<string, unknown>;
}

function snakeToCamel(key: string): string {
  return key.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function parseEnvValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}
