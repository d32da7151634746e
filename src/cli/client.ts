import type { IncomingMessage } from 'node:http';
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

/** The hub's WebSocket endpoint (src/transport/server.ts), named when a URL misses it. */
const WS_PATH = '/ws';
/** A hub answers an upgrade within milliseconds; a peer silent for this long is not one. */
const HANDSHAKE_TIMEOUT_MS = 5_000;
/** How much of a refusal's body is quoted (the hub's reasons are one short line). */
const BODY_QUOTE_BYTES = 300;

export interface CliClient {
  readonly client: Client;
  /**
   * Settles with what went wrong when the first connection fails (refused, an HTTP answer instead
   * of a WebSocket, no handshake): the client would retry for its request timeout (10 s), but a
   * command-line user wants to know now. Never settles once the client has connected.
   */
  readonly unreachable: Promise<string>;
}

/** A client for one CLI command, on the `ws` WebSocket (Node 20 has no global one). */
export function cliClient(flags: ClientFlags, usage: string): CliClient {
  const format = flags.format ?? 'msgpack';
  if (format !== 'msgpack' && format !== 'json')
    throw new UsageError(`--format must be msgpack or json, not ${format}`, usage);
  let report: (problem: string) => void = () => undefined;
  const unreachable = new Promise<string>((resolve) => {
    report = resolve;
  });
  let connected = false;
  const url = flags.url;
  /** `ws` tells why a handshake failed; the SDK's WebSocket interface does not carry it. */
  class ReportingWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
      this.on('error', (error: NodeJS.ErrnoException) => {
        if (!connected) report(describeSocketError(url, error));
      });
      this.on('unexpected-response', (_request, response: IncomingMessage) => {
        void readQuote(response).then((body) => {
          if (!connected) report(describeHttpAnswer(url, response, body));
          this.terminate();
        });
      });
    }
  }
  const client = new Client(url, {
    WebSocket: ReportingWebSocket,
    format,
    ...(flags.token === undefined ? {} : { token: flags.token }),
    name: 'switchboard-cli',
  });
  client.on('connected', () => {
    connected = true;
  });
  return { client, unreachable };
}

function describeSocketError(url: string, error: NodeJS.ErrnoException): string {
  const { host } = new URL(url);
  switch (error.code) {
    case 'ECONNREFUSED':
      return `cannot connect to ${url}: connection refused (nothing listens on ${host})`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot connect to ${url}: unknown host ${new URL(url).hostname}`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `cannot connect to ${url}: ${host} is unreachable (${error.code})`;
    default:
      if (/Opening handshake has timed out/.test(error.message))
        return `no WebSocket handshake from ${url} within ${HANDSHAKE_TIMEOUT_MS} ms: is it a Switchboard hub?`;
      return `cannot connect to ${url}: ${error.message}${error.code ? ` (${error.code})` : ''}`;
  }
}

function describeHttpAnswer(url: string, response: IncomingMessage, body: string): string {
  const status = `HTTP ${response.statusCode} ${response.statusMessage ?? ''}`.trim();
  const parsed = new URL(url);
  const reason = body === '' ? '' : `: ${body}`;
  if (parsed.pathname !== WS_PATH) {
    parsed.pathname = WS_PATH;
    return `${url} answered ${status} instead of a WebSocket: the hub's WebSocket path is ${WS_PATH} (--url ${parsed.href})`;
  }
  return `${url} refused the WebSocket with ${status}${reason}`;
}

/** The start of a refusal's body, on one line; JSON `{"error"}` bodies give their reason. */
function readQuote(response: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      const text = Buffer.concat(chunks).toString('utf8').slice(0, BODY_QUOTE_BYTES).replace(/\s+/g, ' ').trim();
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) return resolve(String(parsed.error));
      } catch {
        // not JSON: quoted as it is
      }
      resolve(text);
    };
    response.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size <= BODY_QUOTE_BYTES) chunks.push(chunk);
    });
    response.once('end', done);
    response.once('error', done);
    // A body that never ends must not hold the answer back.
    setTimeout(done, 500).unref();
  });
}
