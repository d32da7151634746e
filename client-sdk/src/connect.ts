import type { PublishResult } from '@switchboard/protocol';
import type { Client } from './client.js';
import { shared } from './shared.js';
import type { Subscription } from './subscription.js';
import { TabClient } from './tab-client.js';
import type { ClientEvents, ClientOptions, ClientState, Position, SubscribeOptions } from './types.js';

export interface ConnectOptions extends ClientOptions {
  /**
   * One connection for every tab of this origin, owned by a SharedWorker. Where SharedWorker does
   * not exist (or this is false, the default), the tab has its own connection, with the same API.
   */
  readonly shareAcrossTabs?: boolean;
  /** The worker script: the bundle's `worker.js`. Default: `worker.js` next to this module. */
  readonly workerUrl?: string | URL;
}

/** What `connect` returns: a `Client`, or a `TabClient` sharing the worker's. */
export interface Connection {
  readonly url: string;
  readonly state: ClientState;
  connect(): void;
  subscribe(channel: string, options?: SubscribeOptions): Subscription;
  publish(channel: string, data: unknown): Promise<PublishResult>;
  lastPosition(channel: string): Position | undefined;
  on<K extends keyof ClientEvents>(event: K, listener: (value: ClientEvents[K]) => void): () => void;
  off<K extends keyof ClientEvents>(event: K, listener: (value: ClientEvents[K]) => void): void;
  /** Closes it for every user in this page; components release their subscriptions instead. */
  close(): void;
}

/** Same name, same script: every tab of the origin gets the same worker instance. */
const WORKER_NAME = 'switchboard';

const connections = new Map<string, Connection>();

/**
 * The page's one connection to `url`, connecting: components of a page asking for the same URL
 * share it, whatever team wrote them. The first caller's options decide; later callers get it as
 * it is, until it is closed.
 */
export function connect(url: string, options: ConnectOptions = {}): Connection {
  const existing = connections.get(url);
  if (existing && existing.state !== 'closed') return existing;
  const { shareAcrossTabs, workerUrl, ...clientOptions } = options;
  let connection: Connection;
  if (shareAcrossTabs && typeof SharedWorker === 'function') {
    const script = workerUrl ?? new URL('./worker.js', import.meta.url);
    connection = new TabClient(url, {
      ...clientOptions,
      openPort: () => {
        const worker = new SharedWorker(script, { name: WORKER_NAME });
        // Only a script that fails to load or run gets here; the tab keeps trying to join.
        worker.onerror = () => console.error(`switchboard: the SharedWorker ${script} failed`);
        return worker.port;
      },
    });
  } else {
    connection = shared(url, clientOptions) satisfies Client;
  }
  connections.set(url, connection);
  connection.connect();
  return connection;
}
