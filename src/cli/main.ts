import { isUsageError, UsageError } from './usage.js';

const USAGE = `Usage: switchboard <command> [options]

Commands:
  serve       run a hub (embedded in-memory broker unless configured otherwise)
  sub         subscribe to channels and print publications as JSON lines
  pub         publish a JSON value to a channel
  rpc         call a service's method through the hub and print its reply
  token       mint an HS256 token for development (see docs/security.md)
  api         call the server API: switchboard api METHOD [JSON]
  presence    list who is subscribed to a channel, over every hub
  disconnect  close a user's connections on every hub
Run 'switchboard <command> --help' for a command's options.`;

type Command = (argv: string[]) => Promise<number>;

/**
 * Each command loads only its own modules: `pub` in a shell loop must not pay for the hub
 * (loading it all took about 0.4 s before a word was printed).
 */
const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve.js')).serve,
  sub: async () => {
    withoutNativeAddons();
    return (await import('./sub.js')).sub;
  },
  pub: async () => {
    withoutNativeAddons();
    return (await import('./pub.js')).pub;
  },
  rpc: async () => {
    withoutNativeAddons();
    return (await import('./rpc.js')).rpc;
  },
  token: async () => (await import('./token.js')).token,
  api: async () => (await import('./api.js')).api,
  presence: async () => (await import('./presence.js')).presence,
  disconnect: async () => (await import('./disconnect.js')).disconnect,
};

/**
 * ws and msgpackr load optional native add-ons (bufferutil, utf-8-validate, msgpackr-extract)
 * that speed up large volumes; loading them cost `pub` about 11 ms of its ~120 ms for one small
 * message. Read by those packages when they load, so set before the command's import.
 */
function withoutNativeAddons(): void {
  process.env.WS_NO_BUFFER_UTIL = '1';
  process.env.WS_NO_UTF_8_VALIDATE = '1';
  process.env.MSGPACKR_NATIVE_ACCELERATION_DISABLED = 'true';
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (!load) throw new UsageError(`unknown command: ${name}`, USAGE);
  return (await load())(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (isUsageError(error)) {
      process.stderr.write(`switchboard: ${error.message}\n\n${error.usage}\n`);
      process.exit(2);
    }
    if (error instanceof Error && (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`switchboard: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`switchboard: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
