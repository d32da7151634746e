import { ErrorCode } from '@switchboard/protocol';
import { ClientErrorCode, type SwitchboardError } from './errors.js';

/**
 * Idempotency keys and retries of publishes whose outcome is unknown. A key is this client's
 * random prefix (96 bits, so two clients never share one) and a counter: the same on every retry
 * of one publish, so the hub answers a retry without publishing again, and services drop a key
 * they have seen (docs/publishing.md).
 */
export class PublishKeys {
  private readonly prefix: string;
  private count = 0;

  constructor() {
    const bytes = new Uint8Array(12);
    globalThis.crypto.getRandomValues(bytes);
    this.prefix = btoa(String.fromCharCode(...bytes))
      .replace(/\+/g, '-')
      .replace(/\//g, '_');
  }

  next(): string {
    this.count += 1;
    return `${this.prefix}.${this.count.toString(36)}`;
  }
}

/**
 * Whether a publish may have been accepted though it failed: the hub said "outcome unknown"
 * (115), or no reply came (timeout, lost connection). Those are retried with the same key; a
 * refusal (108 included: the target said no) is the application's to handle.
 */
export function outcomeUnknown(error: SwitchboardError): boolean {
  return (
    error.code === ErrorCode.OUTCOME_UNKNOWN ||
    error.code === ClientErrorCode.TIMEOUT ||
    error.code === ClientErrorCode.DISCONNECTED
  );
}

/**
 * Runs `attempt` until it succeeds, fails otherwise than with an unknown outcome, or `retryMs`
 * has passed since the first try (then the last error stands), waiting `pauseMs` between tries.
 */
export async function retryUnknown<T>(
  attempt: () => Promise<T>,
  retryMs: number,
  pauseMs: (tries: number) => number,
): Promise<T> {
  const until = Date.now() + retryMs;
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      const pause = pauseMs(tries);
      if (!outcomeUnknown(error as SwitchboardError) || Date.now() + pause > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
