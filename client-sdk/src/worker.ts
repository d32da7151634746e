/**
 * The SharedWorker script (bundled as `worker.js`): holds the connection for every tab of the
 * origin that uses this script. Tabs reach it through `connect(url, { shareAcrossTabs: true })`.
 */
import type { PortLike } from './tab-protocol.js';
import { WorkerHost } from './worker-host.js';

/** The part of SharedWorkerGlobalScope used here (its type is in the WebWorker lib, not DOM). */
interface SharedWorkerScope {
  onconnect: ((event: { readonly ports: readonly PortLike[] }) => void) | null;
}

const host = new WorkerHost();
(globalThis as unknown as SharedWorkerScope).onconnect = (event) => {
  const port = event.ports[0];
  if (port) host.accept(port);
};
