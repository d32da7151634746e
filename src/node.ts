import { randomBytes } from 'node:crypto';
import { CloseCode } from '@switchboard/protocol';
import { type AdminSource, AdminView } from './admin/snapshot.js';
import type { ApiContext } from './api/methods.js';
import { registerApi } from './api/router.js';
import { Auth } from './auth/auth.js';
import { Bridges } from './bridges/index.js';
import { createKafka } from './bridges/kafka-client.js';
import type { Broker } from './brokers/broker.js';
import { createBroker } from './brokers/index.js';
import { shardMetrics } from './brokers/shard-metrics.js';
import type { HubInfo } from './cluster/commands.js';
import { Control } from './cluster/control.js';
import { type ClusterState, createClusterState } from './cluster/index.js';
import { runLocally } from './cluster/local-commands.js';
import { UserConnections } from './cluster/user-connections.js';
import type { Config } from './config.js';
import type { NodeContext } from './context.js';
import { SimulatedServices } from './demo/simulated-services.js';
import { Drain } from './drain.js';
import { AdminAccess, registerAdmin } from './http/admin.js';
import { Limits } from './limits/registry.js';
import type { Logger } from './log.js';
import { Metrics } from './metrics.js';
import { Namespaces } from './namespaces.js';
import { PresenceTracker } from './presence/tracker.js';
import { ProxyDecider } from './proxy/decider.js';
import { Rpc } from './rpc/rpc.js';
import type { Session } from './session/session.js';
import { SlowConsumerSweep } from './slow-consumers.js';
import { Streams } from './streams/streams.js';
import { traceFanout } from './tracing.js';
import { Server } from './transport/server.js';
import { type LoadedUws, loadUws } from './transport/uws.js';
import { HUB_VERSION } from './version.js';

const CLOSE_FRAME_FLUSH_MS = 50;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Raised when the native uWebSockets.js binary did not load and the fallback was not allowed. */
export class FallbackTransportRefused extends Error {
  constructor() {
    super(
      'uWebSockets.js could not load its native binary and fell back to a slow pure-JS server; ' +
        'refusing to run on it. Use Node 20 on glibc ≥ 2.36, or set allowFallbackTransport: true ' +
        '(SWITCHBOARD_ALLOW_FALLBACK_TRANSPORT=true) to accept the fallback knowingly.',
    );
    this.name = 'FallbackTransportRefused';
  }
}

/**
 * One hub process: wires the broker, the local hub, the sessions and the transport together,
 * and owns their start and orderly stop.
 */
export class SwitchboardNode implements NodeContext {
  readonly id = randomBytes(6).toString('base64url');
  readonly broker: Broker;
  readonly streams: Streams;
  readonly namespaces: Namespaces;
  readonly bridges: Bridges;
  readonly auth: Auth;
  readonly limits: Limits;
  readonly rpc: Rpc;
  readonly proxy: ProxyDecider;
  readonly sessions = new Set<Session>();
  readonly slowConsumers: SlowConsumerSweep;
  readonly metrics: Metrics;
  readonly cluster: ClusterState;
  readonly presence: PresenceTracker;
  readonly userConnections: UserConnections;
  /** Commands to every hub's connections (the server API), and this hub's answers to them. */
  readonly control: Control;
  private readonly server: Server;
  private readonly drain: Drain;
  /** What the server API works with (src/api/). */
  private readonly api: ApiContext;
  /** The demo's simulated services (`demo.enabled`). */
  private readonly demo: SimulatedServices | undefined;
  private readonly startedAt = Date.now();
  private stopping = false;
  private boundPort = 0;
  private boundInternalPort: number | undefined;

  constructor(
    readonly config: Config,
    readonly log: Logger,
    transport: LoadedUws = loadUws(),
  ) {
    if (!transport.native && !config.allowFallbackTransport) throw new FallbackTransportRefused();
    log.info(
      { native: transport.native },
      transport.native ? 'uWebSockets.js native server' : 'uWebSockets.js pure-JS fallback',
    );
    this.metrics = new Metrics({
      connections: () => this.sessions.size,
      subscriptions: () => this.subscriptionCount(),
      channels: () => this.streams.channelCount,
      slowConsumerCloses: () => this.slowConsumers.closed,
      refusals: () => this.refusals(),
    });
    this.broker = createBroker(config.broker, log, shardMetrics(this.metrics.registry));
    this.namespaces = new Namespaces(config);
    this.bridges = new Bridges(config, this.broker, this.namespaces, log, this.metrics);
    this.streams = new Streams(
      this.broker,
      {
        maxChannels: config.limits.maxChannelsPerNode,
        maxRecovery: config.limits.maxRecoveryPublications,
        conflationKey: (channel) => this.namespaces.of(channel).settings.conflation.key,
        recoveryCap: (channel) => this.namespaces.of(channel).settings.maxRecovery,
        positionCheckMs: config.broker.type === 'redis' ? config.broker.positionCheckSeconds * 1000 : 0,
        archive: this.bridges.archive,
      },
      {
        delivered: (subscribers, bytes, publication) => {
          this.metrics.delivered(subscribers, bytes, publication.time);
          if (publication.trace) traceFanout(publication.trace, publication.channel, subscribers);
        },
        read: (purpose, history) => this.metrics.brokerRead(purpose, history),
        repaired: (outcome) => this.metrics.streamRepair(outcome),
        deltaSaved: (bytes) => this.metrics.deltaSaved(bytes),
        recovery: (recovered, reason) => this.metrics.recovery(recovered, reason),
      },
    );
    this.auth = new Auth(config, this.namespaces);
    this.limits = new Limits(config);
    if (!config.auth) log.warn('no auth: any client may subscribe and publish anywhere (see docs/security.md)');
    this.cluster = createClusterState(config.broker, log.child({ component: 'cluster' }));
    this.presence = new PresenceTracker(
      this.cluster.presence,
      config.presence,
      (channel) => this.namespaces.of(channel).settings.presence.joinLeave,
      (channel, change) => this.broker.publishPresence(channel, change),
      { pushed: (changes) => this.metrics.presencePushed(changes), dropped: (n) => this.metrics.presenceDropped(n) },
      log,
    );
    this.userConnections = new UserConnections(this.cluster.users, config.limits.maxConnectionsPerUser, log);
    this.control = new Control(
      this.cluster.bus,
      this.id,
      (command) =>
        runLocally(
          {
            sessions: this.sessions,
            channels: () => this.localChannels(),
            info: () => this.info(),
            deliverFrames: (client, key, frames) => this.server.sse.deliver(client, key, frames),
          },
          command,
        ),
      log.child({ component: 'control' }),
    );
    this.api = {
      config,
      broker: this.broker,
      namespaces: this.namespaces,
      cluster: this.cluster,
      presence: this.presence,
      control: this.control,
      answered: ({ answers, failed, missing }) =>
        this.metrics.controlAnswered(answers.length, failed.length, missing.length),
      localMembers: (channel) => this.streams.members(channel),
    };
    this.proxy = new ProxyDecider(config.proxy);
    const rpcKafka = config.kafka && config.rpc.routes.some((route) => route.type === 'kafka');
    this.rpc = new Rpc(
      config.rpc,
      this.proxy.rpcRoutes(),
      rpcKafka && config.kafka ? createKafka(config.kafka, log.child({ component: 'kafka-rpc' })) : undefined,
      this.id,
      this.metrics.registry,
      log.child({ component: 'rpc' }),
    );
    this.server = new Server(transport.uws, this, {
      notReadyReasons: () => this.notReadyReasons(),
      onSession: (session) => {
        this.sessions.add(session);
        this.metrics.connectionOpened();
        // Debug level: a busy hub opens and closes connections all the time.
        log.debug({ session: session.id, address: session.socket.remoteAddress }, 'connection opened');
      },
      onSessionClosed: (session, code) => {
        this.sessions.delete(session);
        this.userConnections.release(session.id);
        this.metrics.connectionClosed(code);
        log.debug({ session: session.id, code }, 'connection closed');
      },
      refusing: () => this.stopping,
      connections: () => this.sessions.size,
      api: this.api,
    });
    this.streams.attach(this.server.sse);
    this.demo = config.demo.enabled ? new SimulatedServices(this.broker, this.namespaces, log) : undefined;
    if (config.admin.enabled) {
      const view = new AdminView(this.adminSource());
      const access = new AdminAccess(config.http.apiKey);
      registerAdmin(this.server.app, access, view);
      // The admin page's actions call the server API behind the admin view's door (HTTP Basic).
      registerApi(this.server.app, this.api, {
        access,
        prefix: '/admin/api',
        maxBodyBytes: config.limits.maxHttpBodyBytes,
        log,
        called: (method, status) => this.metrics.apiCall(method, status),
        route: (handler) => handler,
      });
    }
    this.slowConsumers = new SlowConsumerSweep(this.sessions, config.limits.maxBackpressureBytes);
    this.drain = new Drain(
      this.sessions,
      { delayMs: config.shutdownDelaySeconds * 1000, graceMs: config.shutdownGraceSeconds * 1000 },
      log,
    );
  }

  get port(): number {
    return this.boundPort;
  }

  /** The operators' port (`http.internalPort`), once listening; undefined when not configured. */
  get internalPort(): number | undefined {
    return this.boundInternalPort;
  }

  async start(): Promise<void> {
    await this.broker.start(this.streams);
    await this.cluster.connect();
    await this.control.start();
    this.presence.start();
    this.userConnections.start();
    this.streams.start();
    await this.bridges.start();
    await this.rpc.start();
    this.boundPort = await this.server.listen(this.config.host, this.config.port);
    this.boundInternalPort = await this.server.listenInternal(
      this.config.http.internalHost,
      this.config.http.internalPort,
    );
    this.slowConsumers.start();
    this.server.sse.start();
    this.demo?.start();
    this.log.info(
      {
        host: this.config.host,
        port: this.boundPort,
        internalPort: this.boundInternalPort,
        broker: this.config.broker.type,
      },
      'hub listening',
    );
  }

  /**
   * Drains, then stops: refuses new clients and reports not ready, keeps serving while the
   * balancer takes it out, moves every client to another hub without a pause in its deliveries
   * (src/drain.ts), closes those left with 4000, and closes the bridges and the broker. A hub that
   * never listened has nobody to drain.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.demo?.stop();
    // HTTP stays up while draining: /readyz answers 503 so balancers stop routing here, /healthz
    // still answers 200 so nothing restarts the hub mid-drain, and upgrades are refused with 503.
    if (this.boundPort !== 0) await this.drain.run();
    this.slowConsumers.stop();
    this.server.sse.stop();
    this.streams.flush();
    for (const session of [...this.sessions]) session.close(CloseCode.SHUTDOWN, 'hub shutting down');
    this.streams.stop();
    await this.presence.stop();
    this.userConnections.stop();
    await this.streams.settled();
    await this.rpc.stop();
    await this.bridges.stop();
    await this.control.close();
    await this.cluster.close();
    await this.broker.close();
    // Close frames were queued above; give them a moment to leave before every socket is cut.
    await sleep(CLOSE_FRAME_FLUSH_MS);
    this.server.closeAll();
    this.log.info('hub stopped');
  }

  /** Cuts a stop in progress short (a second signal): whoever is still connected is closed now. */
  hurry(): void {
    this.drain.hurry();
  }

  /** Limit hits and authorization refusals, by reason, for the metrics. */
  private refusals(): Map<string, number> {
    const counts = new Map<string, number>(Object.entries(this.limits.hits));
    for (const [operation, count] of Object.entries(this.auth.refused)) counts.set(`auth_${operation}`, count);
    return counts;
  }

  /** What the admin view shows of this node. */
  private adminSource(): AdminSource {
    return {
      name: this.config.name,
      brokerType: this.config.broker.type,
      startedAt: this.startedAt,
      demoRunning: this.demo !== undefined,
      streams: this.streams,
      metrics: this.metrics,
      openConnections: () => this.sessions.size,
      subscriptions: () => this.subscriptionCount(),
      slowConsumerCloses: () => this.slowConsumers.closed,
      notReadyReasons: () => this.notReadyReasons(),
    };
  }

  /** This hub as the server API's `info` shows it. */
  info(): HubInfo {
    return {
      id: this.id,
      name: this.config.name,
      version: HUB_VERSION,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      connections: this.sessions.size,
      subscriptions: this.subscriptionCount(),
      channels: this.streams.channelCount,
      broker: this.config.broker.type,
      ready: this.notReadyReasons().length === 0,
    };
  }

  private *localChannels(): Generator<readonly [string, number]> {
    for (const [channel, members] of this.streams.channels()) yield [channel, members];
  }

  private subscriptionCount(): number {
    let count = 0;
    for (const session of this.sessions) count += session.channels.size;
    return count;
  }

  private notReadyReasons(): string[] {
    const reasons: string[] = [];
    if (this.stopping) reasons.push('shutting down');
    if (!this.broker.isReady()) reasons.push(...(this.broker.notReady?.() ?? ['broker not ready']));
    if (!this.cluster.isReady()) reasons.push('cluster state not reachable');
    reasons.push(...this.bridges.notReady());
    if (!this.rpc.isReady()) reasons.push('rpc replies not ready');
    return reasons;
  }
}
