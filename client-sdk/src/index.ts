/**
 * The SDK for Node and for bundlers: everything, the WebSocket link included, and the pieces a
 * SharedWorker and its tabs are made of, for hosting them elsewhere.
 */
export { type FallbackOptions, fallbackLink } from './fallback-link.js';
export type { Transport } from './link.js';
export { type PortLinkOptions, portLink } from './port-link.js';
export * from './sdk.js';
export { type SseLinkOptions, sseLink } from './sse-link.js';
export { type WebSocketLinkOptions, webSocketLink } from './websocket-link.js';
export { WorkerHost, type WorkerHostOptions } from './worker-host.js';
