import { API_HELP, API_OPTIONS, callApi, report } from './api.js';
import { parseCommandLine } from './args.js';
import { UsageError } from './usage.js';

const USAGE = `Usage: switchboard disconnect (--user ID | --client ID) [--code N] [--reason TEXT] [--no-reconnect]

Closes every connection of the user, over every hub (or the one connection), and prints how many
and how many hubs answered: {"connections":…,"hubs":{…}}. The close code tells clients to
reconnect (4000–4499, default 4007) or to stop (4500–4999, default 4502 with --no-reconnect).
${API_HELP}`;

const OPTIONS = {
  ...API_OPTIONS,
  user: { type: 'string' },
  client: { type: 'string' },
  code: { type: 'string' },
  reason: { type: 'string' },
  'no-reconnect': { type: 'boolean' },
} as const;

export async function disconnect(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, OPTIONS);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0 || (values.user === undefined && values.client === undefined))
    throw new UsageError('give --user ID or --client ID', USAGE);
  const code = values.code === undefined ? undefined : Number(values.code);
  if (code !== undefined && !(Number.isInteger(code) && code >= 4000 && code <= 4999))
    throw new UsageError('--code must be an integer from 4000 to 4999', USAGE);
  const body = {
    ...(values.user === undefined ? {} : { user: values.user }),
    ...(values.client === undefined ? {} : { client: values.client }),
    ...(code === undefined ? {} : { code }),
    ...(values.reason === undefined ? {} : { reason: values.reason }),
    ...(values['no-reconnect'] ? { reconnect: false } : {}),
  };
  return report('disconnect', await callApi(values, 'disconnect', body));
}
