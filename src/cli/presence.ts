import { API_HELP, API_OPTIONS, callApi, report } from './api.js';
import { parseCommandLine } from './args.js';
import { UsageError } from './usage.js';

const USAGE = `Usage: switchboard presence CHANNEL [--stats] [--api URL] [--key KEY]

Prints who is subscribed to the channel, over every hub: one JSON line per connection
{"client":…,"user":…,"info":…}; with --stats, one line {"clients":…,"users":…}.
The channel's namespace must have presence enabled (docs/server-api.md).
${API_HELP}`;

export async function presence(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { ...API_OPTIONS, stats: { type: 'boolean' } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [channel, ...rest] = positionals;
  if (channel === undefined || rest.length > 0) throw new UsageError('give exactly one CHANNEL', USAGE);
  const answer = await callApi(values, values.stats ? 'presence_stats' : 'presence', { channel });
  if (values.stats) return report('presence', answer);
  return report('presence', answer, (body) => {
    const clients = (body as { clients?: unknown[] }).clients ?? [];
    return clients.map((client) => JSON.stringify(client)).join('\n') || '(nobody)';
  });
}
