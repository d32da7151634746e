/**
 * A Sentinel-managed Redis group on loopback: a primary, one replica and one sentinel (quorum 1,
 * a primary silent for 1 s is failed over), each stopped by PID.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from './ports.js';
import { ServiceProcess } from './process.js';
import { type RedisService, redisPing, startRedis } from './redis.js';

const run = promisify(execFile);
const MASTER = 'sbmaster';

export interface RedisSentinelService {
  readonly primary: RedisService;
  readonly replica: RedisService;
  readonly sentinel: ServiceProcess;
  /** redis+sentinel://127.0.0.1:<sentinel port>/<master name>, as the hub's configuration takes it. */
  readonly url: string;
  /** The port of the primary the sentinel names now. */
  primaryPort(): Promise<number>;
  destroy(): Promise<void>;
}

export async function startRedisSentinel(): Promise<RedisSentinelService> {
  const host = '127.0.0.1';
  const primary = await startRedis();
  const replica = await startRedis({ extraArgs: ['--replicaof', host, String(primary.port)] });
  const port = await freePort(host);
  const dir = mkdtempSync(path.join(os.tmpdir(), `sb-sentinel-${port}-`));
  const config = path.join(dir, 'sentinel.conf');
  writeFileSync(
    config,
    [
      `port ${port}`,
      `bind ${host}`,
      `dir ${dir}`,
      `sentinel monitor ${MASTER} ${host} ${primary.port} 1`,
      `sentinel down-after-milliseconds ${MASTER} 1000`,
      `sentinel failover-timeout ${MASTER} 5000`,
      '',
    ].join('\n'),
  );
  const sentinel = new ServiceProcess({
    name: 'redis-sentinel',
    port,
    command: 'redis-server',
    args: [config, '--sentinel'],
    ready: () => redisPing(host, port, 1000),
    readyTimeoutMs: 15_000,
    probeIntervalMs: 50,
    stopGraceMs: 5_000,
  });
  const cli = async (target: number, ...args: string[]) =>
    (await run('redis-cli', ['-h', host, '-p', String(target), ...args], { timeout: 5_000 })).stdout;
  const service: RedisSentinelService = {
    primary,
    replica,
    sentinel,
    url: `redis+sentinel://${host}:${port}/${MASTER}`,
    async primaryPort() {
      const reply = await cli(port, 'SENTINEL', 'get-master-addr-by-name', MASTER);
      return Number(reply.trim().split('\n')[1]);
    },
    async destroy() {
      await sentinel.stop();
      await Promise.all([primary.destroy(), replica.destroy()]);
    },
  };
  try {
    await sentinel.start();
    // Failover needs a replica that replicates, and a sentinel that knows it.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const [link, replicas] = await Promise.all([
        cli(replica.port, 'INFO', 'replication').catch(() => ''),
        cli(port, 'SENTINEL', 'replicas', MASTER).catch(() => ''),
      ]);
      if (link.includes('master_link_status:up') && replicas.includes(String(replica.port))) break;
      if (Date.now() > deadline) throw new Error('redis sentinel group not formed within 30 s');
      await sleep(100);
    }
  } catch (error) {
    await service.destroy();
    throw error;
  }
  return service;
}
