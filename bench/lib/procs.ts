/**
 * Processes of a benchmark run: hubs (`switchboard serve`), the ceiling server, redis-server and
 * load generators, each pinned to a core with taskset, logged to bench/results/logs/, and all
 * stopped by PID when the run ends (also on Ctrl-C or a crash of the runner).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './clock.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const RESULTS = join(ROOT, 'bench', 'results');
const LOGS = join(RESULTS, 'logs');
const TASKSET = '/usr/bin/taskset';

const children = new Set<ChildProcess>();
let pinning = existsSync(TASKSET);

export function setPinning(enabled: boolean): void {
  pinning = enabled && existsSync(TASKSET);
}

function killAll(): void {
  for (const child of children) if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

/** Spawns `command` pinned to `cpu` (when taskset exists), with its output in a log file. */
export function spawnPinned(
  name: string,
  cpu: number | undefined,
  command: string,
  args: string[],
  ipc = false,
): ChildProcess {
  mkdirSync(LOGS, { recursive: true });
  const log = createWriteStream(join(LOGS, `${name}.log`));
  const argv = pinning && cpu !== undefined ? [TASKSET, ['-c', String(cpu), command, ...args]] : [command, args];
  const child = spawn(argv[0] as string, argv[1] as string[], {
    cwd: ROOT,
    stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => child.pid && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntil(what: string, timeoutMs: number, probe: () => Promise<boolean>, child?: ChildProcess) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} (see ${LOGS})`);
    if (await probe().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms (see ${LOGS})`);
}

/** VmRSS of a process, in KiB. */
export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
}

export interface Service {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

export interface HubOptions {
  readonly name: string;
  readonly cpu?: number;
  readonly broker: { type: 'memory' } | { type: 'redis'; url: string } | { type: 'redis'; shards: string[] };
  /** Directory for `node --cpu-prof` output; profiling is off without it. */
  readonly profileDir?: string;
  /** Serve wss: with this certificate. */
  readonly tls?: Certificate;
  /** Ingest each Kafka `topic` into the channels of its `namespace` (one consumer group for them all). */
  readonly kafka?: {
    readonly brokers: string[];
    readonly ingress: readonly { readonly topic: string; readonly namespace: string }[];
  };
  /** Route every `rpc` method to Kafka request `topic` (docs/rpc.md). */
  readonly rpc?: { readonly brokers: string[]; readonly topic: string };
  /** Namespaces of the hub's config (e.g. presence, delta), in place of the ones `kafka` makes. */
  readonly namespaces?: Readonly<Record<string, object>>;
}

export interface Certificate {
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * The configuration every benchmark hub runs with: the defaults, except the abuse limits that a
 * load generator on one address would hit by design (connections and connects per IP, messages
 * per second of the publisher connection), a longer connect timeout for 50,000 handshakes, and
 * no demo publications or admin counting, which a production hub does not run either.
 */
export function benchHubConfig(port: number, options: HubOptions): object {
  return {
    name: options.name,
    host: '127.0.0.1',
    port,
    log: { level: 'warn' },
    broker: options.broker,
    limits: {
      maxConnectionsPerIp: 10_000_000,
      connectsPerSecondPerIp: 1_000_000,
      connectBurstPerIp: 1_000_000,
      messagesPerSecond: 1_000_000,
      messageBurst: 1_000_000,
      connectTimeoutSeconds: 60,
    },
    shutdownGraceSeconds: 0,
    shutdownDelaySeconds: 0,
    demo: { enabled: false },
    admin: { enabled: false },
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.namespaces ? { namespaces: options.namespaces } : {}),
    ...(options.kafka
      ? {
          // A fresh group per hub: it starts at the topic's end and never waits for an older member.
          kafka: { brokers: options.kafka.brokers, groupId: `${options.name}-${port}`, sessionTimeoutMs: 6000 },
          namespaces: Object.fromEntries(
            options.kafka.ingress.map(({ topic, namespace }) => [namespace, { kafkaIngress: { topic } }]),
          ),
        }
      : {}),
    ...(options.rpc
      ? {
          kafka: { brokers: options.rpc.brokers },
          rpc: {
            replyPartitions: 4,
            routes: [{ type: 'kafka', prefix: '', topic: options.rpc.topic, timeoutMs: 10_000 }],
          },
        }
      : {}),
    ...(options.namespaces ? { namespaces: options.namespaces } : {}),
  };
}

export async function startHub(options: HubOptions): Promise<Service> {
  const port = await freePort();
  mkdirSync(LOGS, { recursive: true });
  const file = join(LOGS, `${options.name}.config.json`);
  writeFileSync(file, JSON.stringify(benchHubConfig(port, options), null, 2));
  const nodeArgs = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
  const child = spawnPinned(options.name, options.cpu, process.execPath, [
    ...nodeArgs,
    process.env.BENCH_HUB_CLI ?? join(ROOT, 'bin', 'switchboard.js'),
    'serve',
    '--config',
    file,
  ]);
  // Joining a Kafka consumer group takes a few seconds more than starting.
  await waitUntil(
    options.name,
    options.kafka || options.rpc ? 60_000 : 30_000,
    () => answers(port, '/readyz', options.tls),
    child,
  );
  return service(options.name, port, child);
}

export async function startCeiling(
  name: string,
  mode: 'deferred' | 'direct',
  cpu?: number,
  tls?: Certificate,
): Promise<Service> {
  const port = await freePort();
  const child = spawnPinned(name, cpu, process.execPath, [
    '--import',
    'tsx',
    join(ROOT, 'bench', 'ceiling-server.ts'),
    String(port),
    mode,
    ...(tls ? [tls.certFile, tls.keyFile] : []),
  ]);
  await waitUntil(name, 30_000, () => answers(port, '/healthz', tls), child);
  return service(name, port, child);
}

/** Whether GET `path` answers 200 (over TLS, not checking the run's self-signed certificate). */
function answers(port: number, path: string, tls: Certificate | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const request = (tls ? https : http).get(
      { host: '127.0.0.1', port, path, rejectUnauthorized: false, timeout: 2000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    request.on('error', () => resolve(false));
    request.on('timeout', () => request.destroy());
  });
}

/** A self-signed certificate for 127.0.0.1, made by openssl for this run (as test/security/tls.test.ts does). */
export function selfSignedCertificate(): Certificate {
  const dir = join(RESULTS, 'tls');
  mkdirSync(dir, { recursive: true });
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const subject = ['-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'];
  const curve = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  execFileSync(
    'openssl',
    ['req', '-x509', ...curve, '-nodes', '-days', '1', ...subject, '-keyout', keyFile, '-out', certFile],
    {
      stdio: 'ignore',
    },
  );
  return { certFile, keyFile };
}

/** PIDs of every process this run started that is still running (they are not "other load"). */
export function benchPids(): number[] {
  return [...children].flatMap((c) => (c.exitCode === null && c.pid ? [c.pid] : [])).concat([...extraPids]);
}

const extraPids = new Set<number>();
/** Counts a process started elsewhere (Kafka, by the test harness) as the bench's own until `forget`. */
export function adoptPid(pid: number): { forget(): void } {
  extraPids.add(pid);
  return { forget: () => extraPids.delete(pid) };
}

/** Pins every thread of a running process to `cpu` (for processes not started by spawnPinned). */
export function pin(pid: number, cpu: number): void {
  if (pinning) execFileSync(TASKSET, ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

export async function startRedis(name: string, cpu?: number): Promise<Service & { url: string }> {
  const port = await freePort();
  const child = spawnPinned(name, cpu, 'redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--maxclients',
    '1000',
  ]);
  await waitUntil(name, 15_000, () => redisPing(port), child);
  return { ...service(name, port, child), url: `redis://127.0.0.1:${port}` };
}

function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

function service(name: string, port: number, child: ChildProcess): Service {
  if (!child.pid) throw new Error(`${name} has no pid`);
  return { name, port, pid: child.pid, child, stop: () => stopProcess(child) };
}

/** A load-generator process and its request/reply channel. */
export class LoadGen {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  readonly ready: Promise<void>;
  readonly child: ChildProcess;

  constructor(
    readonly name: string,
    cpu?: number,
  ) {
    this.child = spawnPinned(name, cpu, process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'loadgen.ts')], true);
    let started: () => void = () => undefined;
    this.ready = new Promise((resolve) => {
      started = resolve;
    });
    this.child.on('message', (message: { id: number; result?: unknown; error?: string }) => {
      if (message.id === 0) return started();
      const waiter = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (message.error !== undefined) waiter?.reject(new Error(`${name}: ${message.error}`));
      else waiter?.resolve(message.result);
    });
    this.child.on('error', () => undefined);
    this.child.on('exit', (code) => {
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`${name} exited with code ${code}`));
      this.waiting.clear();
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  call<T>(cmd: string, args: object = {}): Promise<T> {
    const id = this.nextId++;
    if (!this.child.connected) return Promise.reject(new Error(`${this.name} is not running`));
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, cmd, ...args }, (error) => {
        if (!error) return;
        this.waiting.delete(id);
        reject(error);
      });
    });
  }

  async stop(): Promise<void> {
    if (this.child.connected) this.child.disconnect();
    await stopProcess(this.child, 5000);
  }
}
