import type { Dial } from './link.js';
import type { ClientOptions } from './types.js';
import { webSocketLink } from './websocket-link.js';

/** The link a Client uses unless told otherwise: a WebSocket. */
export function defaultLink(options: ClientOptions): Dial {
  return webSocketLink(options);
}
