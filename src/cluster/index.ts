import { clusterConnection } from '../brokers/redis-cluster.js';
import { redisConnection } from '../brokers/redis-connect.js';
import { failFast, type RedisCommands } from '../brokers/redis-store.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { RedisPresenceStore } from '../presence/redis-store.js';
import { MemoryPresenceStore, type PresenceStore } from '../presence/store.js';
import { type ControlBus, MemoryBus } from './bus.js';
import { RedisBus } from './redis-bus.js';
import { RedisUserStore } from './redis-user-store.js';
import { MemoryTicketStore, RedisTicketStore, type TicketStore } from './tickets.js';
import { MemoryUserStore, type UserStore } from './user-store.js';

/** What hubs share besides channels: the control bus, users, presence (in the broker's backend). */
export interface ClusterState {
  readonly bus: ControlBus;
  readonly users: UserStore;
  readonly presence: PresenceStore;
  /** Single-use tickets for SSE URLs (src/transport/sse.ts). */
  readonly tickets: TicketStore;
  /** Whether the shared state is reachable now. */
  isReady(): boolean;
  /** Connects (Redis); the bus starts with the node's control. */
  connect(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The cluster state for the configured broker: in this process for the embedded broker, in the
 * same Redis for the Redis broker, on two connections of its own (commands, and a subscriber for
 * the control bus) so that control traffic never queues behind fan-out.
 */
export function createClusterState(settings: Config['broker'], log: Logger): ClusterState {
  if (settings.type === 'memory') {
    const users = new MemoryUserStore();
    const presence = new MemoryPresenceStore();
    const tickets = new MemoryTicketStore();
    return {
      bus: new MemoryBus(),
      users,
      presence,
      tickets,
      isReady: () => true,
      connect: async () => undefined,
      close: async () => {
        tickets.close();
        await Promise.all([users.close(), presence.close()]);
      },
    };
  }
  const connection = (name: string): RedisCommands => {
    if (settings.cluster) return clusterConnection(settings.cluster, settings.commandTimeoutMs, name);
    // With independent shards, the control plane (low volume) lives on the first one.
    const url = settings.shards?.[0] ?? settings.url;
    return redisConnection(url, { ...failFast(settings.commandTimeoutMs), connectionName: name });
  };
  // On a cluster, the control bus uses classic pub/sub (broadcast to every node: fine for its few
  // messages a second), and user and presence keys carry a hash tag, one slot per user or channel.
  const commands = connection('switchboard-cluster');
  const subscriber = connection('switchboard-control');
  for (const [role, connection] of [
    ['cluster', commands],
    ['control', subscriber],
  ] as const) {
    connection.on('error', (error: Error) => log.warn({ role, err: error.message }, 'redis connection error'));
  }
  return {
    bus: new RedisBus(commands, subscriber, settings.prefix, log),
    users: new RedisUserStore(commands, settings.prefix),
    presence: new RedisPresenceStore(commands, settings.prefix),
    tickets: new RedisTicketStore(commands, settings.prefix),
    isReady: () => commands.status === 'ready',
    connect: async () => {
      await Promise.all([commands.connect(), subscriber.connect()]);
    },
    close: async () => {
      await commands.quit().catch(() => undefined);
      commands.disconnect();
      subscriber.disconnect();
    },
  };
}
