import { pino } from 'pino';

export type Logger = pino.Logger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * Structured JSON logs; tokens and payloads are never passed to the logger. Written synchronously:
 * nothing on the delivery path logs, and a hub that exits must not lose its last lines.
 */
export function createLogger(level: LogLevel, destination: 1 | 2 = 1): Logger {
  return pino({ level, base: { service: 'switchboard' } }, pino.destination({ fd: destination, sync: true }));
}
