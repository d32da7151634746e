import { FallbackTransportRefused } from '../node.js';
import { pub } from './pub.js';
import { serve } from './serve.js';
import { sub } from './sub.js';
import { token } from './token.js';
import { UsageError } from './usage.js';

const USAGE = `Usage: switchboard <command> [options]

Commands:
  serve   run a hub (embedded in-memory broker unless configured otherwise)
  sub     subscribe to channels and print publications as JSON lines
  pub     publish a JSON value to a channel
  token   mint an HS256 token for development (see docs/security.md)
Run 'switchboard <command> --help' for a command's options.`;

const commands: Record<string, (argv: string[]) => Promise<number>> = { serve, sub, pub, token };

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command: ${name}`, USAGE);
  return command(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`switchboard: ${error.message}\n\n${error.usage}\n`);
      process.exit(2);
    }
    if (error instanceof FallbackTransportRefused) {
      process.stderr.write(`switchboard: ${error.message}\n`);
      process.exit(3);
    }
    if (error instanceof Error && (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`switchboard: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`switchboard: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
