import { Position } from '@switchboard/protocol';
import { parseCommandLine } from './args.js';
import { CLIENT_OPTIONS, cliClient } from './client.js';
import { defaultUrl, URL_HELP, UsageError } from './usage.js';

const USAGE = `Usage: switchboard sub CHANNEL... [--since EPOCH:OFFSET] [--url URL]

Subscribes to the channels and prints one JSON line per publication:
{"channel":…,"epoch":…,"offset":…,"data":…}
Each (re)subscription is reported on stderr with the channel's position, and whether what was
missed could be recovered. Exits 1 at once when the hub cannot be reached at first.
  --since EPOCH:OFFSET  resume one channel after this position, as sub and pub print it: the
                   publications missed since are printed first, then live ones; stderr says
                   when history no longer reaches it
${URL_HELP}`;

const OPTIONS = { ...CLIENT_OPTIONS, since: { type: 'string' } } as const;

/** A position as sub and pub print it, `EPOCH:OFFSET` (epochs never contain a colon). */
export function formatPosition(position: Position): string {
  return `${position.ep}:${position.off}`;
}

/** `EPOCH:OFFSET` as printed by sub and pub. */
export function parseSince(text: string): Position {
  const match = /^([^:]+):(\d+)$/.exec(text);
  const position = match ? Position.safeParse({ ep: match[1], off: Number(match[2]) }) : undefined;
  if (!position?.success) throw new UsageError(`--since takes EPOCH:OFFSET, not ${text}`, USAGE);
  return position.data;
}

export interface SubCommand {
  readonly channels: readonly string[];
  readonly since: Position | undefined;
  readonly help: boolean;
  readonly url: string;
  readonly format: string | undefined;
  readonly token: string | undefined;
}

/** What `switchboard sub ARGV…` asks for; throws UsageError on a mistake. */
export function readSubCommand(argv: readonly string[]): SubCommand {
  const { values, positionals } = parseCommandLine(argv, OPTIONS);
  const since = values.since === undefined ? undefined : parseSince(values.since);
  if (!values.help && positionals.length === 0) throw new UsageError('name at least one channel', USAGE);
  if (since && positionals.length > 1) throw new UsageError('--since resumes one channel: name exactly one', USAGE);
  return {
    channels: positionals,
    since,
    help: values.help ?? false,
    url: values.url ?? defaultUrl(),
    format: values.format,
    token: values.token,
  };
}

/** Runs until interrupted, or until the hub refuses a subscription or closes for good (exit 1). */
export async function sub(argv: string[]): Promise<number> {
  const command = readSubCommand(argv);
  if (command.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { since } = command;
  const { client, unreachable } = cliClient(command, USAGE);
  return new Promise((resolve) => {
    let failed = false;
    const fail = (message: string) => {
      // The first reason is the one to tell; closing the client makes the others follow.
      if (failed) return;
      failed = true;
      process.stderr.write(`switchboard sub: ${message}\n`);
      client.close();
      resolve(1);
    };
    void unreachable.then(fail);
    client.on('error', (error) => fail(`${error.message} (code ${error.code})`));
    for (const channel of command.channels) {
      const subscription = client.subscribe(channel, since ? { since } : {});
      subscription.on('publication', ({ position, data }) => {
        process.stdout.write(
          `${JSON.stringify({ channel, epoch: position?.ep ?? null, offset: position?.off ?? null, data })}\n`,
        );
      });
      subscription.on('subscribed', ({ position, recovered, reason }) => {
        const outcome =
          recovered === undefined
            ? ''
            : recovered
              ? ', missed publications recovered'
              : `, NOT recovered (${reason}): publications were missed`;
        process.stderr.write(`switchboard sub: subscribed to ${channel} at ${formatPosition(position)}${outcome}\n`);
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
