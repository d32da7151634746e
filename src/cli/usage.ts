/** A command-line mistake: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The hub's WebSocket URL when `--url` is not given: the local hub on `PORT` (8080). */
export function defaultUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.SWITCHBOARD_URL ?? `ws://127.0.0.1:${env.PORT ?? 8080}/ws`;
}

export const URL_HELP = `  --url URL        the hub's WebSocket URL (default: $SWITCHBOARD_URL or ws://127.0.0.1:$PORT/ws, PORT=8080)
  --format FORMAT  wire format: msgpack (default) or json
  --token TOKEN    token sent in the connect frame`;

/**
 * By shape, not `instanceof`: `serve` is loaded unbundled (dist/cli/serve.js) beside the bundled
 * commands, so its UsageError is another copy of the class.
 */
export function isUsageError(error: unknown): error is UsageError {
  return error instanceof Error && error.name === 'UsageError' && typeof Reflect.get(error, 'usage') === 'string';
}
