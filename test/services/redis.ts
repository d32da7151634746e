/** A real redis-server on a free loopback port (no persistence). */
import net from 'node:net';
import os from 'node:os';
import { freePort } from './ports.js';
import { type ManagedService, ServiceProcess } from './process.js';

export interface RedisOptions {
  /** Defaults to a free port. */
  port?: number;
  /** Extra redis-server arguments, e.g. ['--maxmemory', '64mb']. */
  extraArgs?: readonly string[];
  readyTimeoutMs?: number;
}

export interface RedisService extends ManagedService {
  /** redis://127.0.0.1:P */
  readonly url: string;
}

/** Sends PING over a raw socket; true on +PONG (false on -LOADING, errors, timeout). */
export function redisPing(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** What every test redis-server runs with: loopback only, nothing written to disk. */
export function redisArgs(host: string, port: number, dir: string): string[] {
  return ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no', '--dir', dir];
}

export async function startRedis(opts: RedisOptions = {}): Promise<RedisService> {
  const host = '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  const proc = new ServiceProcess({
    name: 'redis',
    port,
    command: 'redis-server',
    args: [...redisArgs(host, port, os.tmpdir()), '--daemonize', 'no', ...(opts.extraArgs ?? [])],
    ready: () => redisPing(host, port, 1000),
    readyTimeoutMs: opts.readyTimeoutMs ?? 15_000,
    probeIntervalMs: 50,
    stopGraceMs: 5_000,
  });
  await proc.start();
  return {
    host,
    port,
    url: `redis://${host}:${port}`,
    get pid() {
      return proc.pid;
    },
    logFile: proc.logFile,
    process: proc,
    start: () => proc.start(),
    stop: () => proc.stop(),
    restart: () => proc.restart(),
    kill9: () => proc.kill9(),
    destroy: () => proc.stop(),
  };
}
