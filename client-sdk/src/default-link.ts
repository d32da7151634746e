import type { Dial } from './link.js';
import type { ClientOptions } from './types.js';
import { webSocketLink } from './websocket-link.js';

/**
 * The link a Client uses unless told otherwise: a WebSocket. The browser bundle replaces this
 * module with default-link.browser.ts (client-sdk/build/bundle.ts), which loads the WebSocket
 * link only when a page first needs it.
 */
export function defaultLink(options: ClientOptions): Dial {
  return webSocketLink(options);
}
