/** A real HAProxy (mode tcp) on a free loopback port in front of the given backends. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { canConnect, freePort } from './ports.js';
import { type ManagedService, registerExitCleanup, ServiceProcess } from './process.js';

export interface Backend {
  host: string;
  port: number;
}

export interface HaproxyOptions {
  backends: readonly Backend[];
  balance?: 'roundrobin' | 'leastconn';
  /** An HTTP path whose 200 marks a backend ready (e.g. /readyz); default: a TCP connect check. */
  healthCheckPath?: string;
  /** Frontend port; defaults to a free port. */
  port?: number;
  /** Global maxconn (default 8000; HAProxy needs ~2 fds per connection, ulimit -n is 20000 here). */
  maxconn?: number;
  readyTimeoutMs?: number;
}

export interface HaproxyService extends ManagedService {
  readonly configFile: string;
}

/** HTTP/1.1 with a Host header: uWS does not answer requests without one (HAProxy's default is HTTP/1.0). */
function httpCheck(path: string): string {
  return `  option httpchk\n  http-check send meth GET uri ${path} ver HTTP/1.1 hdr Host localhost\n  http-check expect status 200\n`;
}

export function haproxyConfig(frontend: Backend, opts: HaproxyOptions): string {
  if (opts.backends.length === 0) throw new Error('startHaproxy: at least one backend is required');
  const servers = opts.backends
    .map((b, i) => `  server s${i} ${b.host}:${b.port} check inter 500ms fall 2 rise 1`)
    .join('\n');
  return `global
  maxconn ${opts.maxconn ?? 8000}
  log stdout format raw local0 notice

defaults
  mode tcp
  log global
  option dontlog-normal
  timeout connect 2s
  timeout client 120s
  timeout server 120s
  timeout tunnel 1h
  timeout check 2s
  option redispatch
  retries 3

frontend fe
  bind ${frontend.host}:${frontend.port}
  default_backend be

backend be
  balance ${opts.balance ?? 'roundrobin'}
${opts.healthCheckPath ? httpCheck(opts.healthCheckPath) : ''}${servers}
`;
}

export async function startHaproxy(opts: HaproxyOptions): Promise<HaproxyService> {
  const host = '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'switchboard-haproxy-'));
  const configFile = path.join(dir, 'haproxy.cfg');
  writeFileSync(configFile, haproxyConfig({ host, port }, opts));
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  const unregister = registerExitCleanup(removeDir);

  const proc = new ServiceProcess({
    name: 'haproxy',
    port,
    command: 'haproxy',
    args: ['-db', '-f', configFile],
    ready: () => canConnect(host, port, 1000),
    readyTimeoutMs: opts.readyTimeoutMs ?? 15_000,
    probeIntervalMs: 50,
    stopGraceMs: 5_000,
  });
  const destroy = async (): Promise<void> => {
    await proc.stop();
    unregister();
    removeDir();
  };
  try {
    await proc.start();
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    host,
    port,
    get pid() {
      return proc.pid;
    },
    configFile,
    logFile: proc.logFile,
    process: proc,
    start: () => proc.start(),
    stop: () => proc.stop(),
    restart: () => proc.restart(),
    kill9: () => proc.kill9(),
    destroy,
  };
}
