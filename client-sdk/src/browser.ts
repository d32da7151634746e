/**
 * The browser bundle's entry (`switchboard.js`): the whole SDK, `connect` with sharing across tabs,
 * and the `<switchboard-feed>` element (call `defineFeed()` to register it).
 */

export { defineFeed, SwitchboardFeed } from './element.js';
export * from './index.js';
