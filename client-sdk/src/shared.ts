import { Client } from './client.js';
import type { ClientOptions } from './types.js';

const clients = new Map<string, Client>();

/**
 * The one Client of `url`, so that independent components of a page share one socket. The
 * options apply when the URL's client is made; later calls get it as it is. A closed client is
 * replaced by a new one.
 */
export function shared(url: string, options?: ClientOptions): Client {
  const existing = clients.get(url);
  if (existing && existing.state !== 'closed') return existing;
  const client = new Client(url, options);
  clients.set(url, client);
  client.on('state', (state) => {
    if (state === 'closed' && clients.get(url) === client) clients.delete(url);
  });
  return client;
}
