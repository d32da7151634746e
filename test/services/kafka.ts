/**
 * A real single-node Kafka (KRaft, broker+controller) on free loopback ports,
 * from the jars fetched by scripts/services/install.sh. restart() keeps the
 * ports and the log dir, so acknowledged records survive it.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaLibsDir, kafkaLog4jFile } from './paths.js';
import { canConnect, freePort } from './ports.js';
import { type ManagedService, registerExitCleanup, ServiceProcess } from './process.js';

const execFileAsync = promisify(execFile);

export type KafkaProperties = Record<string, string | number | boolean>;

export interface KafkaOptions {
  /** PLAINTEXT port; defaults to a free port. */
  port?: number;
  /** CONTROLLER port; defaults to a free port. */
  controllerPort?: number;
  /** Default partitions of auto-created topics (default 3). */
  numPartitions?: number;
  /** Extra/overriding server.properties entries. */
  properties?: KafkaProperties;
  /** Max heap in MiB (default 512). */
  heapMb?: number;
  /** Bound on each start's readiness wait (default 90 s: the JVM start is slow on 2 cores). */
  readyTimeoutMs?: number;
  /** SIGTERM grace before SIGKILL (default 20 s; a clean shutdown flushes the logs). */
  stopGraceMs?: number;
}

export interface KafkaService extends ManagedService {
  /** ['127.0.0.1:P'] */
  readonly brokers: string[];
  readonly controllerPort: number;
  readonly clusterId: string;
  /** Temp folder with server.properties and the log dir; stop() keeps it, destroy() removes it. */
  readonly dir: string;
}

/** A random cluster id in Kafka's Uuid format: 16 bytes, base64url, no padding, not starting with '-'. */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export function kafkaServerProperties(p: {
  port: number;
  controllerPort: number;
  logDir: string;
  numPartitions: number;
  extra?: KafkaProperties;
}): string {
  const host = '127.0.0.1';
  const props: KafkaProperties = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@${host}:${p.controllerPort}`,
    listeners: `PLAINTEXT://${host}:${p.port},CONTROLLER://${host}:${p.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${host}:${p.port}`,
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': p.logDir,
    'num.partitions': p.numPartitions,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 4,
    'group.initial.rebalance.delay.ms': 0,
    'auto.create.topics.enable': true,
    'num.network.threads': 2,
    'num.io.threads': 4,
    'num.recovery.threads.per.data.dir': 1,
    // After a kill -9 the controller refuses the new broker incarnation until the
    // old registration's session expires (default 9 s); keep that short for tests.
    'broker.heartbeat.interval.ms': 500,
    'broker.session.timeout.ms': 3000,
    'log.retention.check.interval.ms': 300000,
    ...p.extra,
  };
  return `${Object.entries(props)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join('\n')}\n`;
}

function javaClasspath(libs: string): string {
  return `${libs}${path.sep}*`;
}

/** One bounded readiness check: metadata is served and every partition (incl. internal topics) has a leader. */
export async function kafkaAnswers(brokers: string[], timeoutMs = 5_000): Promise<boolean> {
  const kafka = new Kafka({
    clientId: 'services-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(2_000, timeoutMs),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  const timer = new AbortController();
  const check = async (): Promise<boolean> => {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) return false;
    const topics = await admin.listTopics();
    if (topics.length === 0) return true;
    const meta = await admin.fetchTopicMetadata({ topics });
    return meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((part) => part.leader >= 0));
  };
  try {
    return await Promise.race([check(), sleep(timeoutMs, false, { signal: timer.signal })]);
  } catch {
    return false;
  } finally {
    timer.abort();
    await admin.disconnect().catch(() => {});
  }
}

/** Creates topics (replication 1) and waits for their leaders. Existing topics are left alone. */
export async function createTopics(brokers: string[], topics: readonly string[], partitions = 3): Promise<void> {
  const kafka = new Kafka({ clientId: 'services-admin', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
      waitForLeaders: true,
      timeout: 30_000,
    });
  } finally {
    await admin.disconnect();
  }
}

export async function startKafka(opts: KafkaOptions = {}): Promise<KafkaService> {
  const libs = kafkaLibsDir();
  const log4j = kafkaLog4jFile();
  const host = '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  let controllerPort = opts.controllerPort ?? (await freePort(host));
  while (controllerPort === port) controllerPort = await freePort(host);
  const brokers = [`${host}:${port}`];

  const dir = mkdtempSync(path.join(os.tmpdir(), 'switchboard-kafka-'));
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  const unregister = registerExitCleanup(removeDir);
  const logDir = path.join(dir, 'data');
  const appLogDir = path.join(dir, 'logs');
  mkdirSync(appLogDir, { recursive: true });
  const configFile = path.join(dir, 'server.properties');
  writeFileSync(
    configFile,
    kafkaServerProperties({
      port,
      controllerPort,
      logDir,
      numPartitions: opts.numPartitions ?? 3,
      extra: opts.properties,
    }),
  );
  const clusterId = newClusterId();
  const jvmCommon = [
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${log4j}`,
    `-Dkafka.logs.dir=${appLogDir}`,
  ];

  const proc = new ServiceProcess({
    name: 'kafka',
    port,
    command: 'java',
    args: [
      '-Xms256m',
      `-Xmx${opts.heapMb ?? 512}m`,
      '-XX:+UseG1GC',
      ...jvmCommon,
      '-cp',
      javaClasspath(libs),
      'kafka.Kafka',
      configFile,
    ],
    ready: async () => (await canConnect(host, port, 1000)) && (await kafkaAnswers(brokers, 5_000)),
    readyTimeoutMs: opts.readyTimeoutMs ?? 90_000,
    probeIntervalMs: 500,
    stopGraceMs: opts.stopGraceMs ?? 20_000,
  });

  const destroy = async (): Promise<void> => {
    await proc.stop();
    unregister();
    removeDir();
  };

  try {
    await execFileAsync(
      'java',
      [
        '-Xmx256m',
        ...jvmCommon,
        '-cp',
        javaClasspath(libs),
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        configFile,
      ],
      { timeout: 60_000, maxBuffer: 4 * 1024 * 1024 },
    );
  } catch (err) {
    await destroy();
    const e = err as { message?: string; stdout?: string; stderr?: string };
    throw new Error(
      `kafka StorageTool format failed: ${e.message ?? String(err)}\n${e.stdout ?? ''}${e.stderr ?? ''}`.trimEnd(),
    );
  }

  try {
    await proc.start();
  } catch (err) {
    await destroy();
    throw err;
  }

  return {
    brokers,
    host,
    port,
    controllerPort,
    clusterId,
    dir,
    get pid() {
      return proc.pid;
    },
    logFile: proc.logFile,
    process: proc,
    start: () => proc.start(),
    stop: () => proc.stop(),
    restart: () => proc.restart(),
    kill9: () => proc.kill9(),
    destroy,
  };
}
