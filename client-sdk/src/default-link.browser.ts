import { ClientErrorCode, SwitchboardError } from './errors.js';
import { fallbackLink } from './fallback-link.js';
import type { Dial } from './link.js';
import type { ClientOptions, WebSocketConstructor } from './types.js';

/** What worker.js exports for pages (client-sdk/src/worker.ts). */
interface WorkerModule {
  webSocketLink(options: ClientOptions): Dial;
}

/** What stream.js exports (client-sdk/src/stream.ts). */
interface StreamModule {
  sseLink(): Dial;
}

/**
 * A dial made by a module beside this one, imported the first time it is needed. Each specifier
 * is built at run time so that the bundler leaves the import to the browser.
 */
function lazy<M>(load: () => Promise<M>, make: (module: M) => Dial): Dial {
  let loaded: Promise<Dial> | undefined;
  return async (url, events) => {
    loaded ??= load().then(make);
    try {
      return (await loaded)(url, events);
    } catch (error) {
      // Loading may fail for a while (offline); the Client tries again after its backoff.
      if (!(error instanceof SwitchboardError)) loaded = undefined;
      throw error;
    }
  };
}

/**
 * The browser bundle's default link (it stands in for default-link.ts there): the WebSocket link
 * lives in worker.js, beside switchboard.js, and is imported the first time a page dials without
 * a SharedWorker, so that a page sharing the worker's connection never loads the codec. Where
 * upgrades fail, the client falls back to HTTP streaming (fallback-link.ts), whose link is in
 * stream.js, loaded only by a page that falls back; `fallback: false` turns that off.
 */
export function defaultLink(options: ClientOptions): Dial {
  if (!options.WebSocket && !(globalThis as { WebSocket?: WebSocketConstructor }).WebSocket) {
    throw new SwitchboardError(ClientErrorCode.NO_WEBSOCKET, 'no WebSocket implementation in this browser', false);
  }
  const webSocket = lazy(
    () => import(new URL('./worker.js', import.meta.url).href) as Promise<WorkerModule>,
    (module) => module.webSocketLink(options),
  );
  if (options.fallback === false) return webSocket;
  const stream = lazy(
    () => import(new URL('./stream.js', import.meta.url).href) as Promise<StreamModule>,
    (module) => module.sseLink(),
  );
  return fallbackLink(webSocket, stream, options.fallback === true ? {} : options.fallback);
}
