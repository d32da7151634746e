/**
 * The browser bundle's entry (`switchboard.js`): the SDK without the WebSocket link — `Client`,
 * `connect` with sharing across tabs, and the `<switchboard-feed>` element (call `defineFeed()`
 * to register it). A page sharing the SharedWorker's connection needs nothing more; the WebSocket
 * link (codec and frame checks) comes from `worker.js` the first time a page dials on its own.
 * worker.js takes the SDK's classes from here (client-sdk/build/bundle.ts).
 */

export { defineFeed, SwitchboardFeed } from './element.js';
export * from './sdk.js';
