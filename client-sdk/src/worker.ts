/**
 * The SharedWorker script (bundled as `worker.js`): owns the connections for every tab of the
 * origin that uses this script. Tabs reach it through `connect(url, { shareAcrossTabs: true })`.
 */
import type { PortLike } from './tab-link.js';
import { TabServer } from './tab-server.js';

/** The part of SharedWorkerGlobalScope used here (its type is in the WebWorker lib, not DOM). */
interface SharedWorkerScope {
  onconnect: ((event: { readonly ports: readonly PortLike[] }) => void) | null;
}

const server = new TabServer();
const scope = globalThis as unknown as SharedWorkerScope;
scope.onconnect = (event) => {
  const port = event.ports[0];
  if (port) server.accept(port);
};
