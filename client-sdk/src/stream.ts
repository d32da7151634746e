/**
 * stream.js: the HTTP-streaming link (sse-link.ts), which a page or the SharedWorker imports only
 * when WebSocket upgrades fail (default-link.browser.ts). It checks frames with worker.js' checks
 * and takes the SDK from switchboard.js, so it carries nothing twice.
 */
export { sseLink } from './sse-link.js';
