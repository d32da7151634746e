import { Client } from '@switchboard/client';
import WebSocket from 'ws';
import { UsageError } from './usage.js';

export const CLIENT_OPTIONS = {
  url: { type: 'string' },
  format: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface ClientFlags {
  readonly url: string;
  readonly format?: string | undefined;
  readonly token?: string | undefined;
}

/** A client for one CLI command, on the `ws` WebSocket (Node 20 has no global one). */
export function cliClient(flags: ClientFlags, usage: string): Client {
  const format = flags.format ?? 'msgpack';
  if (format !== 'msgpack' && format !== 'json')
    throw new UsageError(`--format must be msgpack or json, not ${format}`, usage);
  return new Client(flags.url, {
    WebSocket,
    format,
    ...(flags.token === undefined ? {} : { token: flags.token }),
    name: 'switchboard-cli',
  });
}
