/**
 * The callers of the RPC scenario, in a process of its own: `connections` SDK clients on one hub,
 * each keeping `inFlight` calls going in a closed loop (the next call leaves when a reply comes).
 * Calls are retried until the service answers (its consumer group is joining), then run for
 * `warmupMs` unmeasured and `measureMs` measured. Says `measuring` over IPC when the measured
 * window starts, then sends its result and exits.
 * Argv: one JSON object: { url, connections, inFlight, warmupMs, measureMs }.
 */
import WebSocket from 'ws';
import { Client } from '../../../client-sdk/src/index.js';
import { Histogram, percentiles } from '../histogram.js';

const { url, connections, inFlight, warmupMs, measureMs } = JSON.parse(process.argv[2] ?? '{}') as {
  url: string;
  connections: number;
  inFlight: number;
  warmupMs: number;
  measureMs: number;
};
/** Bounds the wait for the service's first answer: a group join takes seconds, not minutes. */
const FIRST_ANSWER_MS = 60_000;

const clients = Array.from({ length: connections }, () => new Client(url, { WebSocket, requestTimeoutMs: 15_000 }));
for (const client of clients) client.connect();

const first = clients[0] as Client;
const until = Date.now() + FIRST_ANSWER_MS;
for (;;) {
  const answered = await first.rpc('bench.echo', 0, { timeoutMs: 2_000 }).then(
    () => true,
    () => false,
  );
  if (answered) break;
  if (Date.now() > until) throw new Error('the service never answered');
}

const histogram = new Histogram();
let measuring = false;
let running = true;
let calls = 0;
let failed = 0;
const failures: Record<string, number> = {};

async function loop(client: Client): Promise<void> {
  while (running) {
    const start = performance.now();
    try {
      await client.rpc('bench.echo', { at: start });
      if (measuring) {
        histogram.record((performance.now() - start) * 1000);
        calls += 1;
      }
    } catch (error) {
      const code = String((error as { code?: unknown }).code);
      if (measuring) {
        failed += 1;
        failures[code] = (failures[code] ?? 0) + 1;
      }
    }
  }
}

const loops = clients.flatMap((client) => Array.from({ length: inFlight }, () => loop(client)));
await new Promise((resolve) => setTimeout(resolve, warmupMs));
measuring = true;
process.send?.({ measuring: true });
const started = performance.now();
await new Promise((resolve) => setTimeout(resolve, measureMs));
measuring = false;
const ms = performance.now() - started;
running = false;
await Promise.all(loops);
for (const client of clients) client.close();
process.send?.({ calls, failed, failures, ms, latency: percentiles(histogram) }, () => process.exit(0));
