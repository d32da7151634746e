import { setFlagsFromString } from 'node:v8';
import { ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../log.js';
import { FallbackTransportRefused, SwitchboardNode } from '../node.js';
import { startTracing } from '../tracing.js';
import { parseCommandLine } from './args.js';
import { UsageError } from './usage.js';

const USAGE = `Usage: switchboard serve [--config FILE]

Runs a hub. Without a config file it listens on 0.0.0.0:8080 with the embedded in-memory broker.
  --config FILE   YAML or JSON configuration (default: $SWITCHBOARD_CONFIG)
Environment: PORT, HOST, and SWITCHBOARD_<KEY>__<SUBKEY>=value for any configuration key
(e.g. SWITCHBOARD_LIMITS__MAX_FRAME_BYTES=1024). Invalid configuration exits with code 2.`;

/**
 * Keeps V8's young generation at its first size (1 MB semi-spaces) instead of letting it grow to
 * 16 MB ones (32 MB of young generation, resident once used). A hub's allocations are short-lived
 * and per publication, so scavenging more often costs it nothing measurable (docs/BENCHMARKS.md:
 * the fan-out rows did not move), while the grown young generation was most of what an idle
 * connection appeared to cost: 5.1 against 2.1 KiB per connection at 10,000. An explicit choice
 * in NODE_OPTIONS or on the command line wins. Set before the hub allocates anything.
 */
function keepYoungGenerationSmall(): void {
  const explicit = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((flag) => /semi-space/.test(flag));
  if (!explicit) setFlagsFromString('--semi-space-growth-factor=1');
}

export async function serve(argv: string[]): Promise<number> {
  keepYoungGenerationSmall();
  const { values, positionals } = parseCommandLine(argv, {
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`, USAGE);
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(values.config ?? process.env.SWITCHBOARD_CONFIG);
  } catch (error) {
    if (error instanceof ConfigError)
      throw new UsageError(error.message, 'Configuration keys are listed in docs/configuration.md.');
    throw error;
  }
  const log = createLogger(config.log.level);
  const stopTracing = await startTracing(config.tracing);
  let node: SwitchboardNode;
  try {
    node = new SwitchboardNode(config, log);
  } catch (error) {
    if (!(error instanceof FallbackTransportRefused)) throw error;
    process.stderr.write(`switchboard: ${error.message}\n`);
    return 3;
  }
  await node.start();
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        // A second signal: an operator (or Ctrl-C twice) who will not wait for the drain.
        log.info({ signal }, 'stopping now');
        node.hurry();
        return;
      }
      stopping = true;
      log.info({ signal }, 'stopping (a second signal stops at once)');
      node
        .stop()
        .then(stopTracing)
        .then(
          () => resolve(0),
          (error: unknown) => {
            log.error({ err: error }, 'unclean stop');
            resolve(1);
          },
        );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}
