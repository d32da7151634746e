import type { Auth } from './auth/auth.js';
import type { Bridges } from './bridges/index.js';
import type { Broker } from './brokers/broker.js';
import type { ClusterState } from './cluster/index.js';
import type { UserConnections } from './cluster/user-connections.js';
import type { Config } from './config.js';
import type { Limits } from './limits/registry.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { Namespaces } from './namespaces.js';
import type { PresenceTracker } from './presence/tracker.js';
import type { ProxyDecider } from './proxy/decider.js';
import type { Rpc } from './rpc/rpc.js';
import type { Streams } from './streams/streams.js';

/** What sessions and their command handlers need from the node that owns them. */
export interface NodeContext {
  /** This hub's random id, new at every start: with a connection's number, a connection id unique across hubs. */
  readonly id: string;
  readonly config: Config;
  readonly broker: Broker;
  readonly bridges: Bridges;
  /** The node's channel streams: the only way to join or leave a channel (src/streams/). */
  readonly streams: Streams;
  readonly namespaces: Namespaces;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Authentication and authorization (src/auth). */
  readonly auth: Auth;
  /** Abuse limits: per-address state, payload rules, hit counters (src/limits). */
  readonly limits: Limits;
  /** What hubs share besides channels: users (server-side subscriptions, revocations), presence (src/cluster). */
  readonly cluster: ClusterState;
  /** This hub's part of presence (src/presence). */
  readonly presence: PresenceTracker;
  /** This hub's part of `limits.maxConnectionsPerUser`. */
  readonly userConnections: UserConnections;
  /** Proxy hooks: the team's HTTP backends deciding connects, refreshes, subscribes, publishes (src/proxy). */
  readonly proxy: ProxyDecider;
  /** Client calls to services (src/rpc). */
  readonly rpc: Rpc;
}
