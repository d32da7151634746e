/**
 * worker.js, an ES module with two uses. Run as the SharedWorker (`type: 'module'`), it holds the
 * connection for every tab of the origin that uses this script. Imported by a page that has no
 * SharedWorker, it is the WebSocket link (the codec and frame checks), loaded only then
 * (default-link.browser.ts). Either way the SDK itself comes from switchboard.js beside it.
 */
import type { PortLike } from './tab-protocol.js';
import { WorkerHost } from './worker-host.js';

/** For stream.js, which checks frames with the same code. */
export { deliverChecked, unparsed } from './frame-check.js';
export { webSocketLink } from './websocket-link.js';

/** The part of SharedWorkerGlobalScope used here (its type is in the WebWorker lib, not DOM). */
interface SharedWorkerScope {
  onconnect: ((event: { readonly ports: readonly PortLike[] }) => void) | null;
}

// Only a SharedWorker's global scope has `onconnect`; a page importing this module serves no tabs.
if ('onconnect' in globalThis) {
  const host = new WorkerHost();
  (globalThis as unknown as SharedWorkerScope).onconnect = (event) => {
    const port = event.ports[0];
    if (port) host.accept(port);
  };
}
