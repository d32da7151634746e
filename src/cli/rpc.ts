import { parseCommandLine } from './args.js';
import { CLIENT_OPTIONS, cliClient } from './client.js';
import { defaultUrl, URL_HELP, UsageError } from './usage.js';

const USAGE = `Usage: switchboard rpc METHOD JSON [--timeout MS] [--url URL]

Calls METHOD of the service the hub routes it to (its rpc.routes; docs/rpc.md) with the JSON value
as its data, and prints the service's reply data as one JSON line.
Exits 1 when the call fails, with the hub's or the service's code: 116 no route, 117 no reply in
time, 118 the service's error (its own code follows), 119 its endpoint failed.
  --timeout MS     how long to wait for the reply (default 10000)
${URL_HELP}`;

export async function rpc(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { ...CLIENT_OPTIONS, timeout: { type: 'string' } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [method, json, ...rest] = positionals;
  if (method === undefined || json === undefined || rest.length > 0)
    throw new UsageError('give exactly METHOD and JSON', USAGE);
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    throw new UsageError(`not valid JSON: ${json}`, USAGE);
  }
  const timeoutMs = Number(values.timeout ?? 10_000);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new UsageError('--timeout takes milliseconds', USAGE);
  const { timeout: _, ...flags } = values;
  const { client, unreachable } = cliClient({ ...flags, url: values.url ?? defaultUrl() }, USAGE);
  try {
    const reply = await Promise.race([
      client.rpc(method, data, { timeoutMs }),
      unreachable.then((problem) => Promise.reject(new Error(problem))),
    ]);
    process.stdout.write(`${JSON.stringify(reply ?? null)}\n`);
    return 0;
  } catch (error) {
    const { message, code, serviceCode } = error as { message: string; code?: number; serviceCode?: string };
    const codes = [
      code === undefined ? '' : `code ${code}`,
      serviceCode === undefined ? '' : `service code ${serviceCode}`,
    ];
    const suffix = codes.filter(Boolean).join(', ');
    process.stderr.write(`switchboard rpc: ${message}${suffix ? ` (${suffix})` : ''}\n`);
    return 1;
  } finally {
    client.close();
  }
}
