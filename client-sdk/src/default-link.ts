import { fallbackLink } from './fallback-link.js';
import type { Dial } from './link.js';
import { sseLink } from './sse-link.js';
import type { ClientOptions } from './types.js';
import { webSocketLink } from './websocket-link.js';

/**
 * The link a Client uses unless told otherwise: a WebSocket, falling back to HTTP streaming
 * when asked (`fallback`). The browser bundle replaces this module with default-link.browser.ts
 * (client-sdk/build/bundle.ts), which loads the links only when a page first needs them.
 */
export function defaultLink(options: ClientOptions): Dial {
  const webSocket = webSocketLink(options);
  if (!options.fallback) return webSocket;
  return fallbackLink(webSocket, sseLink(), options.fallback === true ? {} : options.fallback);
}
