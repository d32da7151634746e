import { CloseCode } from '@switchboard/protocol';
import { Bridges } from './bridges/index.js';
import type { Broker } from './brokers/broker.js';
import { createBroker } from './brokers/index.js';
import type { Config } from './config.js';
import type { NodeContext } from './context.js';
import { Hub } from './hub.js';
import type { Logger } from './log.js';
import { Namespaces } from './namespaces.js';
import type { Session } from './session.js';
import { Server } from './transport/server.js';
import { type LoadedUws, loadUws } from './transport/uws.js';

const CLOSE_FRAME_FLUSH_MS = 50;

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
  readonly broker: Broker;
  readonly hub: Hub;
  readonly namespaces: Namespaces;
  readonly bridges: Bridges;
  readonly sessions = new Set<Session>();
  private readonly server: Server;
  private stopping = false;
  private boundPort = 0;

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
    this.broker = createBroker(config.broker, log);
    this.hub = new Hub(this.broker, config.limits.maxChannelsPerNode);
    this.namespaces = new Namespaces(config);
    this.bridges = new Bridges(config, this.broker, this.namespaces, log);
    this.server = new Server(transport.uws, this, {
      notReadyReasons: () => this.notReadyReasons(),
      onSession: (session) => this.sessions.add(session),
      onSessionClosed: (session) => this.sessions.delete(session),
      refusing: () => this.stopping,
    });
    this.hub.attach(this.server.app);
  }

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    await this.broker.start(this.hub);
    await this.bridges.start();
    this.boundPort = await this.server.listen(this.config.host, this.config.port);
    this.log.info({ host: this.config.host, port: this.boundPort, broker: this.config.broker.type }, 'hub listening');
  }

  /** Stops accepting, closes every client with 4000 so it reconnects elsewhere, then closes the broker. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.server.stopListening();
    for (const session of [...this.sessions]) session.close(CloseCode.SHUTDOWN, 'hub shutting down');
    await this.hub.settled();
    await this.bridges.stop();
    await this.broker.close();
    // Close frames were queued above; give them a moment to leave before every socket is cut.
    await new Promise((resolve) => setTimeout(resolve, CLOSE_FRAME_FLUSH_MS));
    this.server.closeAll();
    this.log.info('hub stopped');
  }

  private notReadyReasons(): string[] {
    const reasons: string[] = [];
    if (this.stopping) reasons.push('shutting down');
    if (!this.broker.isReady()) reasons.push('broker not ready');
    reasons.push(...this.bridges.notReady());
    return reasons;
  }
}
