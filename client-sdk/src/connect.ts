import { Client } from './client.js';
import { portLink } from './port-link.js';
import { shared } from './shared.js';
import type { HostOptions } from './tab-protocol.js';
import type { ClientOptions } from './types.js';

export interface ConnectOptions extends ClientOptions {
  /**
   * One connection for every tab of this origin, held by a SharedWorker. Where SharedWorker does
   * not exist (or this is false, the default), the tab has its own connection, with the same API.
   */
  readonly shareAcrossTabs?: boolean;
  /** The worker script: the bundle's `worker.js`. Default: `worker.js` next to this module. */
  readonly workerUrl?: string | URL;
}

/**
 * Same name, same script: every tab of the origin gets the same worker instance. The name says
 * which tab protocol (tab-protocol.ts) the worker speaks, so that tabs of an older SDK, still
 * open, keep their own worker rather than meet one they cannot talk to.
 */
const WORKER_NAME = 'switchboard/2';

const connections = new Map<string, Client>();

/**
 * The page's one connection to `url`, connecting: components of a page asking for the same URL
 * share it, whatever team wrote them. The first caller's options decide; later callers get it as
 * it is, until it is closed. Shared across tabs, it is a Client whose link is a MessagePort to
 * the worker; otherwise the URL's Client of `shared()`, on a WebSocket.
 */
export function connect(url: string, options: ConnectOptions = {}): Client {
  const existing = connections.get(url);
  if (existing && existing.state !== 'closed') return existing;
  const { shareAcrossTabs, workerUrl, ...clientOptions } = options;
  let client: Client;
  if (shareAcrossTabs && typeof SharedWorker === 'function') {
    const script = workerUrl ?? new URL('./worker.js', import.meta.url);
    const { token, backoff, requestTimeoutMs } = clientOptions;
    const link = portLink({
      openPort: () => {
        const worker = new SharedWorker(script, { name: WORKER_NAME, type: 'module' });
        // Only a script that fails to load or run gets here; the tab keeps trying to join.
        worker.onerror = () => console.error(`switchboard: the SharedWorker ${script} failed`);
        return worker.port;
      },
      host: hostOptions(clientOptions),
      token: typeof token === 'function' ? token : undefined,
    });
    client = new Client(url, {
      link,
      ...(backoff === undefined ? {} : { backoff }),
      ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }),
    });
  } else {
    client = shared(url, clientOptions);
  }
  connections.set(url, client);
  client.connect();
  return client;
}

/** The options the worker's Client is made with; a token function stays in the tab, which the worker asks. */
export function hostOptions(options: ClientOptions): HostOptions {
  const { format, token, name, version, backoff, requestTimeoutMs } = options;
  return {
    ...(format === undefined ? {} : { format }),
    ...(typeof token === 'function' ? { tokenFromTab: true } : token === undefined ? {} : { token }),
    ...(name === undefined ? {} : { name }),
    ...(version === undefined ? {} : { version }),
    ...(backoff === undefined ? {} : { backoff }),
    ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }),
  };
}
