import WebSocket from 'ws';
import {
  type Client,
  Client as ClientClass,
  type ClientEvents,
  type Subscription,
  type SubscriptionEvents,
} from '../../client-sdk/src/index.js';
import type { TestHub } from '../support/hub.js';

type EventsOf<T> = T extends Client ? ClientEvents : SubscriptionEvents;

/** Resolves with the next `event` of `emitter` that satisfies `accept`; rejects after `timeoutMs`. */
export function nextEvent<T extends Client | Subscription, K extends keyof EventsOf<T> & string>(
  emitter: T,
  event: K,
  accept: (value: EventsOf<T>[K]) => boolean = () => true,
  timeoutMs = 5_000,
): Promise<EventsOf<T>[K]> {
  const on = emitter.on.bind(emitter) as (name: K, listener: (value: EventsOf<T>[K]) => void) => () => void;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for '${event}'`));
    }, timeoutMs);
    const off = on(event, (value) => {
      if (!accept(value)) return;
      clearTimeout(timer);
      off();
      resolve(value);
    });
  });
}

/** The channels each of the hub's sessions holds a wire subscription to, as the hub sees them. */
export function wireSubscriptions(hub: TestHub): string[][] {
  return [...hub.node.sessions].map((session) => [...session.channels].sort());
}

/** How many of the hub's sessions are subscribed to `channel`. */
export function subscribersOf(hub: TestHub, channel: string): number {
  return [...hub.node.sessions].filter((session) => session.channels.has(channel)).length;
}

/**
 * Clients of one test hub over `ws` with a fast backoff, each closed by `closeAll`; `url` is read
 * when a client is made, so the hub may start after this is called.
 */
export function hubClients(url: () => string) {
  const made: Client[] = [];
  return {
    client(options: ConstructorParameters<typeof Client>[1] = {}): Client {
      const client = new ClientClass(url(), { WebSocket, backoff: { initialMs: 10, maxMs: 50 }, ...options });
      made.push(client);
      return client;
    },
    closeAll(): void {
      for (const client of made) client.close();
    },
  };
}
