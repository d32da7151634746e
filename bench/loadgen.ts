/**
 * A load-generator process, driven by bench/run.ts over the IPC channel. It holds up to ~19,900
 * subscriber connections (the per-process descriptor limit), an optional publisher, and counts
 * and times every delivery without allocating per message (lib/ws-client.ts, lib/wire.ts).
 *
 * Requests: `{id, cmd, ...}`; replies: `{id, result}` or `{id, error}`. Commands:
 *   open       open `count` connections, connect and subscribe each to its channels
 *   subscribe  subscribe every open connection to more channels
 *   closeAll   close every connection (close frame, then TCP reset) and publisher
 *   phase      zero every counter; reset: zero the measurement window; snapshot: read counters
 *   publish    publish at a fixed rate or at the maximum (paced by what is undelivered), by one of
 *              the ingress paths of lib/loadgen/types.ts (`Via`)
 *   credit     (a publisher-only process) the deliveries the subscribers' process has counted,
 *              which pace its `max` mode
 *   churn      open, subscribe and close connections in a loop, as fast as `concurrency` allows
 *   peek       counters for the progress line
 */
import { resetAll, resetWindow, snapshot, stats } from './lib/loadgen/counters.js';
import { closePublishers, publish } from './lib/loadgen/publish.js';
import { churn, closeSubscribers, open, openCount, restartSequences, subscribe } from './lib/loadgen/subscribers.js';
import type { ChannelPattern, ChurnArgs, OpenArgs, PublishArgs } from './lib/loadgen/types.js';

type Request = { id: number; cmd: string } & Record<string, unknown>;
const commands: Record<string, (req: Request) => unknown> = {
  open: (req) => open(req as unknown as OpenArgs),
  subscribe: (req) => subscribe(req as unknown as { patterns: ChannelPattern[] }),
  closeAll: async () => {
    const closed = await closeSubscribers();
    await closePublishers();
    return { closed };
  },
  publish: (req) => publish(req as unknown as PublishArgs),
  credit: (req) => {
    stats.delivered = Number(req.delivered);
    return {};
  },
  churn: (req) => churn(req as unknown as ChurnArgs),
  phase: () => {
    resetAll();
    restartSequences();
    return {};
  },
  reset: () => {
    resetWindow();
    return {};
  },
  snapshot: () => snapshot(openCount()),
  peek: () => ({ delivered: stats.delivered, published: stats.published, conns: openCount() }),
};

process.on('message', (message: Request) => {
  const command = commands[message.cmd];
  if (!command) {
    process.send?.({ id: message.id, error: `unknown command ${message.cmd}` });
    return;
  }
  Promise.resolve()
    .then(() => command(message))
    .then(
      (result) => process.send?.({ id: message.id, result }),
      (error: unknown) =>
        process.send?.({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
    );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ id: 0, result: { ready: true, pid: process.pid } });
