import { ClientErrorCode, SwitchboardError } from './errors.js';
import type { Dial } from './link.js';
import type { ClientOptions, WebSocketConstructor } from './types.js';

/** What worker.js exports for pages (client-sdk/src/worker.ts). */
interface WorkerModule {
  webSocketLink(options: ClientOptions): Dial;
}

/**
 * The browser bundle's default link (it stands in for default-link.ts there): the WebSocket link
 * lives in worker.js, beside switchboard.js, and is imported the first time a page dials without
 * a SharedWorker, so that a page sharing the worker's connection never loads the codec. The
 * specifier is built at run time so that the bundler leaves the import to the browser.
 */
export function defaultLink(options: ClientOptions): Dial {
  if (!options.WebSocket && !(globalThis as { WebSocket?: WebSocketConstructor }).WebSocket) {
    throw new SwitchboardError(ClientErrorCode.NO_WEBSOCKET, 'no WebSocket implementation in this browser', false);
  }
  let loaded: Promise<Dial> | undefined;
  return async (url, events) => {
    loaded ??= (import(new URL('./worker.js', import.meta.url).href) as Promise<WorkerModule>).then((module) =>
      module.webSocketLink(options),
    );
    try {
      return (await loaded)(url, events);
    } catch (error) {
      // Loading may fail for a while (offline); the Client tries again after its backoff.
      if (!(error instanceof SwitchboardError)) loaded = undefined;
      throw error;
    }
  };
}
