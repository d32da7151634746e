import { parseArgs } from 'node:util';
import { CLIENT_OPTIONS, cliClient } from './client.js';
import { defaultUrl, URL_HELP, UsageError } from './usage.js';

const USAGE = `Usage: switchboard sub CHANNEL... [--url URL]

Subscribes to the channels and prints one JSON line per publication:
{"channel":…,"epoch":…,"offset":…,"data":…}
Each (re)subscription is reported on stderr with the channel's position.
${URL_HELP}`;

/** Runs until interrupted, or until the hub refuses a subscription or closes for good (exit 1). */
export async function sub(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: CLIENT_OPTIONS, allowPositionals: true });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('name at least one channel', USAGE);
  const client = cliClient({ ...values, url: values.url ?? defaultUrl() }, USAGE);
  return new Promise((resolve) => {
    const fail = (message: string) => {
      process.stderr.write(`switchboard sub: ${message}\n`);
      client.close();
      resolve(1);
    };
    client.on('error', (error) => fail(`${error.message} (code ${error.code})`));
    for (const channel of positionals) {
      const subscription = client.subscribe(channel);
      subscription.on('publication', ({ position, data }) => {
        process.stdout.write(
          `${JSON.stringify({ channel, epoch: position?.ep ?? null, offset: position?.off ?? null, data })}\n`,
        );
      });
      subscription.on('subscribed', ({ position }) => {
        process.stderr.write(`switchboard sub: subscribed to ${channel} at ${position.ep}:${position.off}\n`);
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
