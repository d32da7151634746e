import type { Dial, Link, LinkEvents } from './link.js';

export interface FallbackOptions {
  /** While on HTTP streaming, how often a WebSocket is tried again. Default 60 000. */
  readonly retryWebSocketMs?: number | undefined;
}

/** The Client reconnects over the other transport at once rather than after its backoff. */
const NOW = 0;

/**
 * Tries a WebSocket first and falls back to HTTP streaming (sse-link.ts) where upgrades fail:
 * a WebSocket that closes before it opened while the hub answers HTTP means something between
 * breaks upgrades. The choice is made per dial, so components and the SharedWorker above see one
 * Client reconnecting, which resubscribes from each channel's position (no gap, no duplicate):
 * - a WebSocket that never opened: the next dial, at once, is HTTP streaming;
 * - a stream that never delivered (the hub itself is down): back to WebSocket first, after the
 *   Client's backoff, so that a hub restart does not move WebSocket clients to the fallback;
 * - while on HTTP streaming, a WebSocket is tried every `retryWebSocketMs`; once one opens, the
 *   stream is closed and the Client reconnects over WebSocket.
 */
export function fallbackLink(webSocket: Dial, stream: Dial, options: FallbackOptions = {}): Dial {
  const retryMs = options.retryWebSocketMs ?? 60_000;
  let fallBack = false;
  return async (url, events) => {
    let delivered = false;
    if (!fallBack) {
      return webSocket(url, {
        ...events,
        open: () => {
          delivered = true;
          events.open();
        },
        close: (code, reason, retry) => {
          if (!delivered) fallBack = true;
          events.close(code, reason, delivered ? retry : NOW);
        },
      });
    }
    let probe: ReturnType<typeof setTimeout> | undefined;
    let link: Link | undefined;
    const tryWebSocket = () => {
      probe = undefined;
      let probing: Link | undefined;
      const ignore = () => undefined;
      const back: LinkEvents = {
        open: () => {
          probing?.close(1000, 'probe');
          if (!link || probe === undefined) return;
          clearTimeout(probe);
          fallBack = false;
          link.close(1000, 'websocket is back');
          events.close(1000, 'websocket is back', NOW);
        },
        frame: ignore,
        problem: ignore,
        close: ignore,
      };
      probe = setTimeout(tryWebSocket, retryMs);
      Promise.resolve(webSocket(url, back)).then((opened) => {
        probing = opened;
      }, ignore);
    };
    link = await stream(url, {
      ...events,
      frame: (frame) => {
        delivered = true;
        events.frame(frame);
      },
      close: (code, reason, retry) => {
        clearTimeout(probe);
        probe = undefined;
        if (!delivered) fallBack = false;
        events.close(code, reason, retry);
      },
    });
    probe = setTimeout(tryWebSocket, retryMs);
    const opened = link;
    return {
      transport: opened.transport,
      send: (frame) => opened.send(frame),
      limit: (maxFrame) => opened.limit(maxFrame),
      close: (code, reason) => {
        clearTimeout(probe);
        probe = undefined;
        opened.close(code, reason);
      },
    } satisfies Link;
  };
}
