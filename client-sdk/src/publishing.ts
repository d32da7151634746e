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
 * Whether to send a publish again with its key: the hub said "outcome unknown" (115), or no reply
 * came in time. Both on a connection that is still up, where the hub remembers the key and
 * answers the retry without publishing twice. A publish whose connection was lost is not retried:
 * a new connection's hub does not know the key, so the application decides (with the same key, a
 * service behind an egress still drops the duplicate). A refusal (108 included) is the
 * application's to handle.
 */
export function outcomeUnknown(error: SwitchboardError): boolean {
  return error.code === ErrorCode.OUTCOME_UNKNOWN || error.code === ClientErrorCode.TIMEOUT;
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
