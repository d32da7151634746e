import { parseCommandLine } from './args.js';
import { UsageError } from './usage.js';

export const API_OPTIONS = {
  api: { type: 'string' },
  key: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const API_HELP = `  --api URL   the hub's HTTP address (default: $SWITCHBOARD_API_URL or http://127.0.0.1:$PORT, PORT=8080)
  --key KEY   the API key, when the hub has http.apiKey (default: $SWITCHBOARD_API_KEY, or $SWITCHBOARD_HTTP__API_KEY)`;

const USAGE = `Usage: switchboard api METHOD [JSON] [--api URL] [--key KEY]

Calls the server API (POST /api/METHOD with the JSON body, {} when omitted) and prints the
hub's answer as one JSON line. Methods: publish, batch, broadcast, subscribe, unsubscribe, disconnect,
refresh, revoke, channels, info, history, presence, presence_stats (docs/server-api.md).
Exits 1 when the hub refuses, naming the status and the reason.
${API_HELP}`;

/** A server API call's answer: its HTTP status and JSON body. */
export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface ApiFlags {
  readonly api?: string | undefined;
  readonly key?: string | undefined;
}

/** Calls `POST /api/<method>`; rejects with a readable message when the hub cannot be reached. */
export async function callApi(flags: ApiFlags, method: string, body: unknown): Promise<ApiAnswer> {
  const env = process.env;
  const base = flags.api ?? env.SWITCHBOARD_API_URL ?? `http://127.0.0.1:${env.PORT ?? 8080}`;
  const key = flags.key ?? env.SWITCHBOARD_API_KEY ?? env.SWITCHBOARD_HTTP__API_KEY;
  const url = new URL(`/api/${encodeURIComponent(method)}`, base);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    // fetch says only "fetch failed"; its cause says why (ECONNREFUSED, or "bad port" for a port fetch refuses).
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`cannot reach ${url.origin}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
  }
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: shown as text.
  }
  return { status: response.status, body: parsed };
}

/** Prints a successful answer as one JSON line, or the refusal; returns the exit code. */
export function report(command: string, answer: ApiAnswer, print = (body: unknown) => JSON.stringify(body)): number {
  if (answer.status >= 200 && answer.status < 300) {
    process.stdout.write(`${print(answer.body)}\n`);
    const partial = incomplete(answer.body);
    if (partial) process.stderr.write(`switchboard ${command}: warning: ${partial}\n`);
    return 0;
  }
  const reason =
    typeof answer.body === 'object' && answer.body !== null && 'error' in answer.body
      ? String(answer.body.error)
      : String(answer.body);
  process.stderr.write(`switchboard ${command}: HTTP ${answer.status}: ${reason}\n`);
  return 1;
}

/**
 * Why a command over every hub answered only in part (its `hubs` or `answered` says who did not
 * answer), so a shell user never takes a partial count for the whole.
 */
export function incomplete(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const hubs = 'hubs' in body && !Array.isArray(body.hubs) ? body.hubs : 'answered' in body ? body.answered : undefined;
  if (typeof hubs !== 'object' || hubs === null || !('complete' in hubs) || hubs.complete !== false) return undefined;
  const names = (value: unknown) => (Array.isArray(value) ? value.filter((v) => typeof v === 'string') : []);
  const missing = names('missing' in hubs ? hubs.missing : undefined);
  const failed = names('failed' in hubs ? hubs.failed : undefined);
  return `partial answer: ${missing.length} hub(s) did not answer in time${missing.length ? ` (${missing.join(', ')})` : ''}, ${failed.length} failed${failed.length ? ` (${failed.join(', ')})` : ''}`;
}

export async function api(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, API_OPTIONS);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [method, json, ...rest] = positionals;
  if (method === undefined || rest.length > 0) throw new UsageError('give METHOD and at most one JSON body', USAGE);
  let body: unknown = {};
  if (json !== undefined) {
    try {
      body = JSON.parse(json);
    } catch {
      throw new UsageError('the body is not valid JSON', USAGE);
    }
  }
  return report('api', await callApi(values, method, body));
}
