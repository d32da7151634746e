import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const KiB = 1024;
const MiB = 1024 * KiB;

const HistorySettings = z.strictObject({
  /** Publications kept per channel for recovery; 0 keeps none. */
  size: z.number().int().min(0).max(100_000).default(100),
  ttlSeconds: z
    .number()
    .int()
    .min(1)
    .max(30 * 24 * 3600)
    .default(300),
});

/** What applies to the channels of one namespace (the part of a channel name before the first `:`). */
export const NamespaceSettings = z.strictObject({
  history: HistorySettings.prefault({}),
  /** Whether clients may publish into this namespace. */
  clientPublish: z.boolean().default(true),
});
export type NamespaceSettings = z.infer<typeof NamespaceSettings>;

const MemoryBrokerSettings = z.strictObject({ type: z.literal('memory') });
const BrokerSettings = z.discriminatedUnion('type', [MemoryBrokerSettings]);

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
  /** Publications a subscribe with `since` may replay; more missed than that is not recovered. */
  maxRecoveryPublications: z.number().int().min(0).max(100_000).default(1_000),
  maxHttpBodyBytes: z
    .number()
    .int()
    .min(KiB)
    .max(64 * MiB)
    .default(MiB),
});

export const Config = z.strictObject({
  host: z.string().min(1).default('0.0.0.0'),
  port: z.number().int().min(0).max(65_535).default(8080),
  /** Run on uWebSockets.js' slow pure-JS fallback when the native binary cannot load (never in production). */
  allowFallbackTransport: z.boolean().default(false),
  log: z
    .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .prefault({}),
  broker: BrokerSettings.prefault({ type: 'memory' }),
  limits: LimitSettings.prefault({}),
  /** Seconds between an idle client's pings. */
  clientPingSeconds: z.number().int().min(1).max(3600).default(25),
  /** Seconds a stopping hub waits for clients to leave before closing the rest. */
  shutdownGraceSeconds: z.number().int().min(0).max(3600).default(5),
  /** Settings for channels of namespaces not listed in `namespaces`. */
  defaultNamespace: NamespaceSettings.prefault({}),
  namespaces: z
    .record(
      z.string().regex(/^[A-Za-z0-9_\-.@=/,]+$/, 'namespace names use channel characters except ":"'),
      NamespaceSettings,
    )
    .default({}),
  /** Refuse channels of namespaces not listed in `namespaces` (error 102) instead of applying `defaultNamespace`. */
  strictNamespaces: z.boolean().default(false),
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
/** Variables that are not config paths. */
const ENV_RESERVED = new Set(['SWITCHBOARD_CONFIG']);

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
  return parseConfig(raw);
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
    value = parseYaml(text);
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
