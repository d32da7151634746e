import { parseCommandLine } from './args.js';
import { CLIENT_OPTIONS, cliClient } from './client.js';
import { defaultUrl, URL_HELP, UsageError } from './usage.js';

const USAGE = `Usage: switchboard pub CHANNEL JSON [--url URL]

Publishes one JSON value to the channel through the hub and prints the hub's ack as one JSON line:
{"channel":…,"epoch":…,"offset":…}
Exits 1 at once when the hub cannot be reached, naming the URL and what happened.
${URL_HELP}`;

export async function pub(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, CLIENT_OPTIONS);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [channel, json, ...rest] = positionals;
  if (channel === undefined || json === undefined || rest.length > 0)
    throw new UsageError('give exactly CHANNEL and JSON', USAGE);
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    throw new UsageError(`not valid JSON: ${json}`, USAGE);
  }
  const { client, unreachable } = cliClient({ ...values, url: values.url ?? defaultUrl() }, USAGE);
  try {
    const ack = await Promise.race([
      client.publish(channel, data),
      unreachable.then((problem) => Promise.reject(new Error(problem))),
    ]);
    process.stdout.write(`${JSON.stringify({ channel, epoch: ack.ep, offset: ack.off })}\n`);
    return 0;
  } catch (error) {
    const { message, code } = error as { message: string; code?: number };
    process.stderr.write(`switchboard pub: ${message}${code === undefined ? '' : ` (code ${code})`}\n`);
    return 1;
  } finally {
    client.close();
  }
}
