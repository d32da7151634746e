import { parseArgs } from 'node:util';
import { Position } from '@switchboard/protocol';
import { CLIENT_OPTIONS, cliClient } from './client.js';
import { defaultUrl, URL_HELP, UsageError } from './usage.js';

const USAGE = `Usage: switchboard sub CHANNEL... [--since EPOCH:OFFSET] [--url URL]

Subscribes to the channels and prints one JSON line per publication:
{"channel":…,"epoch":…,"offset":…,"data":…}
Each (re)subscription is reported on stderr with the channel's position, and whether what was
missed could be recovered.
  --since EPOCH:OFFSET  resume one channel after this position: the publications missed since are
                   printed first, then live ones; stderr says when history no longer reaches it
${URL_HELP}`;

/** `EPOCH:OFFSET` as printed by sub and pub (epochs never contain a colon). */
function parseSince(text: string): Position {
  const match = /^([^:]+):(\d+)$/.exec(text);
  const position = match ? Position.safeParse({ ep: match[1], off: Number(match[2]) }) : undefined;
  if (!position?.success) throw new UsageError(`--since takes EPOCH:OFFSET, not ${text}`, USAGE);
  return position.data;
}

/** Runs until interrupted, or until the hub refuses a subscription or closes for good (exit 1). */
export async function sub(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...CLIENT_OPTIONS, since: { type: 'string' } },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('name at least one channel', USAGE);
  const since = values.since === undefined ? undefined : parseSince(values.since);
  if (since && positionals.length > 1) throw new UsageError('--since resumes one channel: name exactly one', USAGE);
  const client = cliClient({ ...values, url: values.url ?? defaultUrl() }, USAGE);
  return new Promise((resolve) => {
    const fail = (message: string) => {
      process.stderr.write(`switchboard sub: ${message}\n`);
      client.close();
      resolve(1);
    };
    client.on('error', (error) => fail(`${error.message} (code ${error.code})`));
    for (const channel of positionals) {
      const subscription = client.subscribe(channel, since ? { since } : {});
      subscription.on('publication', ({ position, data }) => {
        process.stdout.write(
          `${JSON.stringify({ channel, epoch: position?.ep ?? null, offset: position?.off ?? null, data })}\n`,
        );
      });
      subscription.on('subscribed', ({ position, recovered, reason }) => {
        const at = `${position.ep}:${position.off}`;
        const outcome =
          recovered === undefined
            ? ''
            : recovered
              ? ', missed publications recovered'
              : `, NOT recovered (${reason}): publications were missed`;
        process.stderr.write(`switchboard sub: subscribed to ${channel} at ${at}${outcome}\n`);
      });
      subscription.on('unsubscribed', ({ code, reason }) => fail(`${channel}: ${reason} (code ${code})`));
      subscription.ready.catch((error: { message: string; code: number }) =>
        fail(`${channel}: ${error.message} (code ${error.code})`),
      );
    }
    const stop = () => {
      client.close();
      resolve(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
