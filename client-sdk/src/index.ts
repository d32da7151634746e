/**
 * The SDK for Node and for bundlers: everything, the WebSocket link included, and the pieces a
 * SharedWorker and its tabs are made of, for hosting them elsewhere.
 */
export { type PortLinkOptions, portLink } from './port-link.js';
export * from './sdk.js';
export { type WebSocketLinkOptions, webSocketLink } from './websocket-link.js';
export { WorkerHost, type WorkerHostOptions } from './worker-host.js';
