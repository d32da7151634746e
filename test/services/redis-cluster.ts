/**
 * A real Redis Cluster on loopback: N masters (each with `replicas` replicas) of redis-server
 * --cluster-enabled yes, joined by `redis-cli --cluster create`, each stopped by PID.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';
import { ServiceProcess } from './process.js';
import { redisArgs, redisPing } from './redis.js';

const run = promisify(execFile);

export interface RedisClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** cluster-node-timeout: how long a silent master takes to be failed over (plus an election). */
  nodeTimeoutMs?: number;
}

export interface RedisClusterNode {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly process: ServiceProcess;
}

export interface RedisClusterService {
  readonly nodes: readonly RedisClusterNode[];
  /** redis://host:port of every node, as seeds for a client. */
  readonly urls: readonly string[];
  /** `redis-cli` against one node, answering its stdout. */
  cli(node: RedisClusterNode, ...args: string[]): Promise<string>;
  /** The node that is master of `slot` now, asked of a live node. */
  masterOf(slot: number): Promise<RedisClusterNode>;
  /** Resolves once every live node says cluster_state:ok. */
  settled(timeoutMs?: number): Promise<void>;
  destroy(): Promise<void>;
}

export async function startRedisCluster(opts: RedisClusterOptions = {}): Promise<RedisClusterService> {
  const host = '127.0.0.1';
  const masters = opts.masters ?? 3;
  const replicas = opts.replicasPerMaster ?? 0;
  const nodeTimeoutMs = opts.nodeTimeoutMs ?? 2_000;
  const nodes: RedisClusterNode[] = [];
  // Two ports a node (clients, cluster bus), all distinct: a port just freed may be handed out again.
  const taken = new Set<number>();
  const distinctPort = async (): Promise<number> => {
    for (;;) {
      const port = await freePort(host);
      if (!taken.has(port)) {
        taken.add(port);
        return port;
      }
    }
  };
  for (let i = 0; i < masters * (1 + replicas); i++) {
    const port = await distinctPort();
    const busPort = await distinctPort();
    const dir = mkdtempSync(path.join(os.tmpdir(), `sb-cluster-${port}-`));
    const proc = new ServiceProcess({
      name: 'redis-cluster',
      port,
      command: 'redis-server',
      args: [
        ...redisArgs(host, port, dir),
        '--cluster-enabled',
        'yes',
        '--cluster-port',
        String(busPort),
        '--cluster-config-file',
        path.join(dir, 'nodes.conf'),
        '--cluster-node-timeout',
        String(nodeTimeoutMs),
      ],
      ready: () => redisPing(host, port, 1000),
      readyTimeoutMs: 15_000,
      probeIntervalMs: 50,
      stopGraceMs: 5_000,
    });
    nodes.push({ host, port, url: `redis://${host}:${port}`, process: proc });
  }
  try {
    await Promise.all(nodes.map((node) => node.process.start()));
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((node) => `${host}:${node.port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
  } catch (error) {
    await Promise.all(nodes.map((node) => node.process.stop()));
    throw error;
  }
  const cli = async (node: RedisClusterNode, ...args: string[]): Promise<string> =>
    (await run('redis-cli', ['-h', host, '-p', String(node.port), ...args], { timeout: 5_000 })).stdout;
  const live = (): RedisClusterNode[] => nodes.filter((node) => node.process.running);
  const service: RedisClusterService = {
    nodes,
    urls: nodes.map((node) => node.url),
    cli,
    async masterOf(slot) {
      for (const node of live()) {
        const owner = await masterBySlots(node, slot, nodes);
        if (owner) return owner;
      }
      throw new Error(`no live node knows the master of slot ${slot}`);
    },
    async settled(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const states = await Promise.all(live().map((node) => cli(node, 'CLUSTER', 'INFO').catch(() => '')));
        if (states.every((info) => info.includes('cluster_state:ok'))) return;
        await sleep(100);
      }
      throw new Error(`redis cluster not settled within ${timeoutMs} ms`);
    },
    async destroy() {
      await Promise.all(nodes.map((node) => node.process.stop()));
    },
  };
  await service.settled();
  // A replica first joins as an empty master, and only takes over its master once it replicates.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const infos = await Promise.all(nodes.map((node) => cli(node, 'INFO', 'replication').catch(() => '')));
    const linked = infos.filter((info) => info.includes('master_link_status:up')).length;
    if (linked === masters * replicas) break;
    if (Date.now() > deadline) {
      await service.destroy();
      throw new Error(`${linked} of ${masters * replicas} redis cluster replicas linked within 30 s`);
    }
    await sleep(100);
  }
  return service;
}

/** The master of `slot` as `node` sees it (CLUSTER SLOTS: [start, end, [ip, port, id], …replicas]). */
async function masterBySlots(node: RedisClusterNode, slot: number, nodes: readonly RedisClusterNode[]) {
  const redis = new Redis(node.port, node.host, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const ranges = (await redis.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, string]]>;
    const range = ranges.find(([start, end]) => start <= slot && slot <= end);
    return range ? nodes.find((candidate) => candidate.port === Number(range[2][1])) : undefined;
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}
