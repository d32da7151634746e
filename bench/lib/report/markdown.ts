/**
 * The markdown section a recorded run appends to docs/BENCHMARKS.md.
 */
import { fmtRate } from '../progress.js';
import type { FanoutResult } from '../scenarios/fanout.js';
import type { ReplayResult } from '../scenarios/replay.js';
import type { SseResult } from '../scenarios/sse.js';
import type { StreamsResult } from '../scenarios/streams.js';
import { headlineTable } from './headline.js';
import { ingressMarkdown } from './ingress.js';
import {
  ceilingAtSameRate,
  ceilingFor,
  costRatio,
  fixed,
  otherLoad,
  pct,
  type RunResults,
  throughputRatio,
  times,
} from './results.js';
import { shardsMarkdown } from './shards.js';

const ms = (n: number) => (Number.isFinite(n) ? `${n.toFixed(n < 10 ? 2 : 1)}` : '—');
const kib = (n: number) => `${n.toFixed(2)}`;
const mb = (k: number) => `${(k / 1024).toFixed(1)} MiB`;

function fanoutTable(all: FanoutResult[]): string {
  const rows = [
    '| scenario | server | load | deliveries/s | p99 ms | server µs/delivery | cost vs ceiling | deliveries vs ceiling | bytes/push | publications/s | p50 ms | p99.9 ms | expected | drops | gaps | server CPU | loadgen CPU | path µs/delivery | other CPU |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of all) {
    const ceiling = ceilingFor(all, r);
    for (const p of r.points) {
      const hub = p.server === 'hub';
      const cost = hub ? times(costRatio(p, ceilingAtSameRate(r, p) ?? (p.mode === 'max' ? ceiling : undefined))) : '';
      const through = hub && p.mode === 'max' ? (throughputRatio(p, ceiling) ?? 0) : 0;
      const load = p.mode === 'max' ? '**max**' : `${fmtRate(p.offeredDeliveries ?? 0)}/s offered`;
      const drops = p.drops === 0 ? '0' : `**${p.drops}**`;
      const path = p.path
        ? `${p.path.name} ${p.path.usPerDelivery} (${p.path.cores} cores)`
        : p.redisCpu !== undefined
          ? `redis ${p.redisCpu} cores`
          : '';
      const other = `${p.otherCpu}${p.quiet === false ? ' (disturbed)' : ''}`;
      rows.push(
        `| ${r.title} | ${p.server} | ${load} | ${fmtRate(p.deliveriesPerSec)} | ${ms(p.latency.p99)} | ${fixed(p.serverUsPerDelivery)} | ${cost} | ${through ? pct(through) : ''} | ${p.pushBytes ?? ''} | ${fmtRate(p.pubsPerSec)} | ${ms(p.latency.p50)} | ${ms(p.latency.p999)} | ${p.expected} | ${drops} | ${p.gaps} | ${p.serverCpu} | ${p.loadgenCpu} | ${path} | ${other} |`,
      );
    }
  }
  return rows.join('\n');
}

function fanoutSection(results: RunResults, chartPath: string | undefined): string[] {
  const out: string[] = ['### Fan-out', ''];
  out.push(
    '"server µs/delivery" is the CPU time (user + system, all threads) of the server process over the window divided by the deliveries received in it: the figure that carries over to another machine with the same publish pattern. "cost vs ceiling" divides it by the ceiling\'s for the same shape (channels × subscribers, wire format, TLS) at its maximum, or at the same offered rate where the ceiling ran one; "deliveries vs ceiling" compares the maxima. `ceiling` is the bare uWebSockets.js server publishing from outside its handlers (its best case); `ceiling-direct` calls `app.publish` inside the message handler, as the hub once did. "bytes/push" is the mean WebSocket frame (header + payload) the load generator received. "path" is the CPU of Redis or Kafka per delivery. CPU columns are cores (1.00 = one core busy); "other" is CPU used on the machine by processes outside the benchmark.',
  );
  out.push('');
  out.push(headlineTable(results, 'markdown'));
  out.push('');
  out.push('Every measurement:');
  out.push('');
  out.push(fanoutTable(results.fanout));
  out.push('');
  if (chartPath) {
    out.push(`Latency against offered load: [${chartPath}](${chartPath})`);
    out.push('');
    out.push(`![latency percentiles against offered load](${chartPath})`);
    out.push('');
  }
  return out;
}

export function markdown(results: RunResults, chartPath: string | undefined): string {
  const m = results.machine;
  const out: string[] = [];
  out.push(
    `## ${results.date.slice(0, 16).replace('T', ' ')} UTC · ${results.mode} run · \`${results.commit.slice(0, 10)}\``,
  );
  out.push('');
  out.push(`- Commit: \`${results.commit}\`${results.dirty ? ' (with uncommitted changes in the work tree)' : ''}`);
  out.push(`- Command: \`${results.command}\` (${Math.round(results.durationSeconds)} s)`);
  out.push(
    `- Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, Linux ${m.kernel}, uWebSockets.js ${m.uws}; load average at start ${m.loadAverageAtStart.map((x) => x.toFixed(2)).join(' ')}`,
  );
  out.push('- Pinning: hub or ceiling server on CPU 0; load generators, redis-server and Kafka on CPU 1 (`taskset`).');
  const other = otherLoad(results);
  if (other.windows > 0) {
    out.push(
      `- Other load (CPU used by processes outside the benchmark during a measurement window): at most ${other.max} cores; ${other.disturbed === 0 ? `every window under ${other.threshold} core (quiet)` : `**${other.disturbed} of ${other.windows} windows at ${other.threshold} core or more** (marked "disturbed" below; \`--until-quiet ${results.untilQuiet ?? 1}\`)`}.`,
    );
  }
  out.push('');
  out.push('### Targets');
  out.push('');
  out.push('| target | goal | measured | met |');
  out.push('| --- | --- | --- | --- |');
  for (const t of results.targets) out.push(`| ${t.what} | ${t.goal} | ${t.measured} | ${t.met ? 'yes' : '**no**'} |`);
  out.push('');
  if (results.fanout.length > 0) out.push(...fanoutSection(results, chartPath));
  if (results.ingress && results.ingress.length > 0) out.push(ingressMarkdown(results.ingress));
  if (results.shards && results.shards.length > 0) out.push(shardsMarkdown(results.shards));
  if (results.idle.length > 0) {
    out.push('### Idle connections (one process each)');
    out.push('');
    out.push(
      '| server | connections | subscriptions each | RSS before | RSS connected | RSS subscribed | KiB per connection (with subs) | KiB per connection (no subs) | KiB per subscription |',
    );
    out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const i of results.idle) {
      out.push(
        `| ${i.server} | ${i.connections} | ${i.subscriptionsPerConnection} | ${mb(i.rssBeforeKiB)} | ${mb(i.rssConnectedKiB)} | ${mb(i.rssSubscribedKiB)} | ${kib(i.kibPerConnection)} | ${kib(i.kibPerConnectionBare)} | ${kib(i.kibPerSubscription)} |`,
      );
    }
    out.push('');
  }
  if (results.sse) out.push(...sseSection(results.sse));
  const c = results.cluster;
  if (c) {
    out.push(`### ${c.connections.toLocaleString('en-US')} connections: ${c.hubs.length} hub processes on one Redis`);
    out.push('');
    out.push(
      `${c.loadgens} load-generator processes, one per hub (a process can hold at most ~19,900 sockets here). Every connection subscribes to its own \`user:\` channel and to one of ${c.broadcasts[0]?.rooms ?? 0} \`room:\` channels. Opened and subscribed in ${(c.openMs / 1000).toFixed(1)} s.`,
    );
    out.push('');
    out.push(
      '| hub process | connections | RSS before | RSS connected | RSS subscribed | KiB per connection | KiB per subscription |',
    );
    out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const h of c.hubs) {
      out.push(
        `| ${h.name} | ${h.connections} | ${mb(h.rssBeforeKiB)} | ${mb(h.rssConnectedKiB)} | ${mb(h.rssSubscribedKiB)} | ${kib(h.kibPerConnection)} | ${kib(h.kibPerSubscription)} |`,
      );
    }
    const total = c.hubs.reduce((a, h) => a + h.rssSubscribedKiB - h.rssBeforeKiB, 0);
    out.push(`| **total** | ${c.connections} | | | | ${kib(total / c.connections)} | |`);
    out.push('');
    const first = c.broadcasts[0];
    if (first) {
      out.push(
        `Then the ${first.rooms} rooms are published to through Redis with the publisher helper (${first.subscribersPerRoom.toFixed(0)} subscribers per room, spread over the ${c.hubs.length} hubs); all ${c.hubs.length} hubs share CPU 0, the load generators and Redis share CPU 1:`,
      );
      out.push('');
      out.push(
        '| publications/s | deliveries/s | p50 ms | p99 ms | p99.9 ms | expected | drops | gaps | hub CPU (each) | loadgen CPU (each) | redis CPU | other CPU |',
      );
      out.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: |');
      for (const b of c.broadcasts) {
        out.push(
          `| ${b.offeredPubs} | ${fmtRate(b.deliveriesPerSec)} | ${ms(b.latency.p50)} | ${ms(b.latency.p99)} | ${ms(b.latency.p999)} | ${b.expected} | ${b.drops} | ${b.gaps} | ${b.hubCpu.join(' / ')} | ${b.loadgenCpu.join(' / ')} | ${b.redisCpu} | ${b.otherCpu} |`,
        );
      }
      out.push('');
    }
  }
  if (results.churn.length > 0) {
    out.push('### Churn');
    out.push('');
    out.push(
      '| server | cycles/s (connect, 2 subscribes, close) | in flight | handshake p50 ms | p99 ms | failed | RSS before → after (→ 15 s later) | server CPU |',
    );
    out.push('| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |');
    for (const ch of results.churn) {
      out.push(
        `| ${ch.server} | ${ch.cyclesPerSec} | ${ch.concurrency} | ${ms(ch.handshake.p50)} | ${ms(ch.handshake.p99)} | ${ch.failed} | ${mb(ch.rssBeforeKiB)} → ${mb(ch.rssAfterKiB)}${ch.rssLaterKiB !== undefined ? ` (→ ${mb(ch.rssLaterKiB)})` : ''} | ${ch.serverCpu} |`,
      );
    }
    const hub = results.churn.find((x) => x.server === 'hub');
    const ceiling = results.churn.find((x) => x.server === 'ceiling');
    if (hub && ceiling) out.push(`\nHub churn rate: ${pct(hub.cyclesPerSec / ceiling.cyclesPerSec)} of the ceiling's.`);
    out.push('');
  }
  if (results.rpc) {
    const r = results.rpc;
    out.push('### RPC through Kafka');
    out.push('');
    out.push(
      `One hub, one service process (switchboard/service), ${r.connections} SDK connections with ${r.inFlight} calls each in flight, closed loop; each round trip is client → hub → request topic → service → reply partition → hub → client.`,
    );
    out.push('');
    out.push('| round trips/s | p50 ms | p90 ms | p99 ms | p99.9 ms | failed | hub CPU |');
    out.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    out.push(
      `| ${r.callsPerSec} | ${ms(r.latency.p50)} | ${ms(r.latency.p90)} | ${ms(r.latency.p99)} | ${ms(r.latency.p999)} | ${r.failed} | ${r.hubCpu} |`,
    );
    out.push('');
  }
  if (results.presence) {
    const p = results.presence;
    out.push('### Presence churn and server API calls');
    out.push('');
    out.push(
      `One hub on the Redis broker; the load generator connects, subscribes to one of ${p.rooms} rooms and closes, 64 at a time; one SDK watcher per room counts the \`pres\` pushes it gets (bounded by one per room per second with one hub). CPU per connect + subscribe + close cycle.`,
    );
    out.push('');
    out.push(
      '| presence | cycles/s | hub µs/cycle | Redis µs/cycle | pres pushes/s per watcher (mean · max) | changes per push | failed |',
    );
    out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of p.churn) {
      out.push(
        `| ${r.presence ? 'on, with join/leave' : 'off'} | ${r.cyclesPerSec} | ${r.hubUsPerCycle.toFixed(1)} | ${r.redisUsPerCycle.toFixed(1)} | ${r.pushesPerWatcherPerSec.toFixed(2)} · ${r.maxPushesPerWatcherPerSec.toFixed(2)} | ${r.changesPerPush.toFixed(1)} | ${r.failed} |`,
      );
    }
    out.push('');
    out.push('Server API calls, 8 callers in a closed loop, the rooms full:');
    out.push('');
    out.push('| method | calls/s | p50 ms | p99 ms | hub µs/call | failed |');
    out.push('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const r of p.api) {
      out.push(
        `| \`${r.method}\` | ${r.callsPerSec} | ${ms(r.latency.p50)} | ${ms(r.latency.p99)} | ${r.hubUsPerCall.toFixed(0)} | ${r.failed} |`,
      );
    }
    out.push('');
  }
  if (results.streams) out.push(...streamsSection(results.streams));
  if (results.replay) out.push(...replaySection(results.replay));
  const profiles = results.fanout.filter((r) => r.profile);
  for (const r of profiles) {
    const p = r.profile;
    if (!p) continue;
    out.push(`### Hub CPU profile: ${r.title} (\`--cpu-prof\`, self time)`);
    out.push('');
    out.push(`${p.file}, ${p.totalMs} ms sampled.`);
    out.push('');
    out.push('| function | where | self ms | % |');
    out.push('| --- | --- | ---: | ---: |');
    for (const e of p.top) out.push(`| \`${e.fn}\` | ${e.where} | ${e.selfMs} | ${e.percent.toFixed(1)} |`);
    out.push('');
  }
  return out.join('\n');
}

/** SSE streams against WebSockets (JSON) on one hub in the same run, and memory per idle stream. */
function sseSection(result: SseResult): string[] {
  const out = ['### SSE fallback against WebSocket (one hub, one channel, same run)', ''];
  out.push(
    'The clients and the publisher share the runner process, which bounds deliveries/s and latency (WebSocket clients cost it more to read than SSE streams); hub µs per delivery is the comparison.',
    '',
  );
  out.push('| transport | subscribers | publications/s | delivered | deliveries/s | hub µs per delivery | p50 | p99 |');
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of result.rows) {
    out.push(
      `| ${r.transport} | ${r.subscribers} | ${r.offeredPubs} | ${r.delivered}/${r.expected} | ${r.deliveriesPerSec} | ${r.serverUsPerDelivery} | ${r.latency.p50} ms | ${r.latency.p99} ms |`,
    );
  }
  out.push('');
  const { idle } = result;
  out.push(
    `Idle: ${idle.streams} SSE streams with one subscription each took the hub from ${mb(idle.rssBeforeKiB)} to ${mb(idle.rssAfterKiB)}: ${kib(idle.kibPerStream)} KiB per stream.`,
  );
  out.push('');
  return out;
}

/** Delta bytes, conflation cost and token streams (bench/lib/scenarios/streams.ts). */
function streamsSection({ delta, conflation, tokens }: StreamsResult): string[] {
  const saved = delta.wholeBytesPerPush > 0 ? 1 - delta.deltaBytesPerPush / delta.wholeBytesPerPush : 0;
  const out = ['### Delta compression', ''];
  out.push(
    `${delta.documents} near-identical JSON documents of ${delta.documentBytes} B, 50 a second, to ${delta.subscribers} subscribers of one channel, once whole and once with \`delta: true\` (fossil, one diff per publication).`,
  );
  out.push('');
  out.push('| | bytes on the wire per push | hub CPU ms per publication |');
  out.push('| --- | ---: | ---: |');
  out.push(`| whole | ${delta.wholeBytesPerPush} | ${delta.wholeCpuMs} |`);
  out.push(`| delta | ${delta.deltaBytesPerPush} (${pct(saved)} saved) | ${delta.deltaCpuMs} |`);
  out.push('', '### Conflation', '');
  out.push(
    `One channel published at ${conflation.publicationsPerSec}/s to ${conflation.subscribers} subscribers, uncapped and with \`maxRate: ${conflation.maxRate}\` (one timer and one topic for all of them).`,
  );
  out.push('');
  out.push('| | hub CPU (cores) | deliveries per subscriber per second |');
  out.push('| --- | ---: | ---: |');
  out.push(`| uncapped | ${conflation.wholeCores} | ${conflation.wholePerSubscriberPerSec} |`);
  out.push(
    `| maxRate ${conflation.maxRate} | ${conflation.conflatedCores} | ${conflation.conflatedPerSubscriberPerSec} |`,
  );
  out.push('', '### LLM token streams', '');
  out.push(
    "Concurrent streams of 10–30-byte tokens from a service (the publisher helper into Redis, or Kafka ingress) through one hub to watchers in the runner; latency is from the service's send to the watcher's event (target p99 < 50 ms).",
  );
  out.push('');
  out.push(
    '| via | streams × tokens/s | watchers | tokens/s sent | tokens/s delivered | p50 ms | p99 ms | max ms | missing | hub CPU |',
  );
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const t of tokens) {
    out.push(
      `| ${t.via} | ${t.streams} × ${t.tokensPerSecPerStream} | ${t.watchers} | ${t.sentPerSec} | ${t.tokensPerSec} | ${ms(t.latency.p50)} | ${ms(t.latency.p99)} | ${ms(t.latency.max)} | ${t.missing} | ${t.hubCores} |`,
    );
  }
  out.push('');
  return out;
}

/** Resumes from beyond Redis history, read again from Kafka (bench/lib/scenarios/replay.ts). */
function replaySection(result: ReplayResult): string[] {
  const out = ['### Replay from Kafka beyond Redis history', ''];
  out.push(
    `One channel's ${result.records} records of ${result.recordBytes} B interleaved with as many of ${result.neighbours} neighbours on a 3-partition topic; Redis keeps ${result.historySize} per channel; \`kafkaIngress.replay\` on. A client resumes with \`since\` alone on the hub, each run after the last ended; medians.`,
  );
  out.push('');
  out.push(
    '| missed | from Kafka | recovered | ms to the reply | ms to the last | publications/s | hub CPU ms | runs |',
  );
  out.push('| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const row of result.rows) {
    out.push(
      `| ${row.missed} | ${row.fromKafka} | ${row.recovered ? 'yes' : 'no'} | ${row.replyMs} | ${row.lastMs} | ${row.publicationsPerSec} | ${row.hubCpuMs} | ${row.runs} |`,
    );
  }
  out.push('');
  return out;
}
