/**
 * Turns a run's results into the markdown section appended to docs/BENCHMARKS.md, the console
 * table, and the latency chart (hand-written SVG: latency percentiles against offered load).
 */

import { fmtRate } from './progress.js';
import type { ChurnResult, ClusterResult, FanoutResult, IdleResult, Point } from './scenarios.js';

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly kernel: string;
  readonly uws: string;
  readonly loadAverageAtStart: number[];
}

export interface RunResults {
  readonly id: string;
  readonly date: string;
  readonly commit: string;
  readonly dirty: boolean;
  readonly command: string;
  readonly mode: 'quick' | 'full';
  readonly machine: Machine;
  readonly durationSeconds: number;
  readonly fanout: FanoutResult[];
  readonly idle: IdleResult[];
  readonly churn: ChurnResult[];
  readonly cluster?: ClusterResult;
  readonly targets: Target[];
}

export interface Target {
  readonly what: string;
  readonly goal: string;
  readonly measured: string;
  readonly met: boolean | undefined;
}

const pct = (n: number) => `${(100 * n).toFixed(1)}%`;
const ms = (n: number) => (Number.isFinite(n) ? `${n.toFixed(n < 10 ? 2 : 1)}` : '—');
const kib = (n: number) => `${n.toFixed(2)}`;

export function maxOf(result: FanoutResult | undefined, server: string): Point | undefined {
  return result?.points.find((p) => p.server === server && p.mode === 'max');
}

/** The ceiling's maximum for the same shape (same channels × subscribers), measured in this run. */
export function ceilingFor(all: FanoutResult[], r: FanoutResult, server = 'ceiling'): Point | undefined {
  const same = all.find(
    (x) =>
      x.channels === r.channels &&
      x.subscribersPerChannel === r.subscribersPerChannel &&
      x.points.some((p) => p.server === server && p.mode === 'max'),
  );
  return maxOf(same, server);
}

export function evaluateTargets(results: Omit<RunResults, 'targets'>): Target[] {
  const targets: Target[] = [];
  const memory = results.fanout.filter((r) => r.broker === 'memory');
  const one = memory.find((r) => r.channels === 1);
  const many = memory.find((r) => r.channels > 1);
  for (const [r, goal, what] of [
    [one, 0.85, 'one channel'],
    [many, 0.75, 'many channels'],
  ] as const) {
    if (!r) continue;
    const hub = maxOf(r, 'hub');
    const ceiling = ceilingFor(results.fanout, r);
    if (!hub || !ceiling) continue;
    const ratio = hub.deliveriesPerSec / ceiling.deliveriesPerSec;
    targets.push({
      what: `memory broker, ${what} (${r.channels} × ${r.subscribersPerChannel}): deliveries/s vs ceiling`,
      goal: `≥ ${pct(goal)}`,
      measured: `${pct(ratio)} (${fmtRate(hub.deliveriesPerSec)} vs ${fmtRate(ceiling.deliveriesPerSec)})`,
      met: ratio >= goal,
    });
  }
  for (const r of memory) {
    const half = r.points.find((p) => p.server === 'hub' && p.mode === 'rate' && isHalf(r, p));
    if (!half) continue;
    const ceiling = r.points.find(
      (p) => p.server === 'ceiling' && p.mode === 'rate' && p.offeredPubs === half.offeredPubs,
    );
    targets.push({
      what: `p99 at half the hub's maximum rate (${r.channels} × ${r.subscribersPerChannel}, ${fmtRate(half.offeredDeliveries ?? 0)} deliveries/s)`,
      goal: '< 50 ms',
      measured: `${ms(half.latency.p99)} ms${ceiling ? ` (ceiling at the same rate: ${ms(ceiling.latency.p99)} ms)` : ''}`,
      met: half.latency.p99 < 50 && half.drops === 0,
    });
  }
  for (const r of results.fanout.filter((x) => x.broker === 'redis')) {
    const hub = maxOf(r, 'hub');
    const ceiling = ceilingFor(results.fanout, r);
    if (!hub || !ceiling) continue;
    const ratio = hub.deliveriesPerSec / ceiling.deliveriesPerSec;
    targets.push({
      what: `Redis ingress (${r.channels} × ${r.subscribersPerChannel}): deliveries/s vs ceiling`,
      goal: '≥ 50.0%',
      measured: `${pct(ratio)} (${fmtRate(hub.deliveriesPerSec)} vs ${fmtRate(ceiling.deliveriesPerSec)})`,
      met: ratio >= 0.5,
    });
  }
  const idleHub = results.idle.find((i) => i.server === 'hub');
  if (idleHub) {
    targets.push({
      what: `idle connection with 2 subscriptions: hub RSS (${idleHub.connections} connections, one hub)`,
      goal: '< 3 KB',
      measured: `${kib((idleHub.kibPerConnection * 1024) / 1000)} KB`,
      met: (idleHub.kibPerConnection * 1024) / 1000 < 3,
    });
  }
  for (const h of results.cluster?.hubs ?? []) {
    targets.push({
      what: `idle connection with 2 subscriptions: ${h.name} RSS (${h.connections} connections, Redis broker)`,
      goal: '< 3 KB',
      measured: `${kib((h.kibPerConnection * 1024) / 1000)} KB`,
      met: (h.kibPerConnection * 1024) / 1000 < 3,
    });
  }
  return targets;
}

function isHalf(r: FanoutResult, p: Point): boolean {
  const max = maxOf(r, 'hub');
  return !!max && !!p.offeredPubs && Math.abs(p.offeredPubs / max.pubsPerSec - 0.5) < 0.02;
}

function fanoutTable(all: FanoutResult[]): string {
  const rows = [
    '| scenario | server | load | publications/s | deliveries/s | vs ceiling | p50 ms | p99 ms | p99.9 ms | expected | drops | gaps | server CPU | loadgen CPU | other CPU |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of all) {
    const ceiling = ceilingFor(all, r);
    for (const p of r.points) {
      const ratio =
        p.server === 'hub' && p.mode === 'max' && ceiling ? pct(p.deliveriesPerSec / ceiling.deliveriesPerSec) : '';
      const load = p.mode === 'max' ? '**max**' : `${fmtRate(p.offeredDeliveries ?? 0)}/s offered`;
      const drops = p.drops === 0 ? '0' : `**${p.drops}**`;
      rows.push(
        `| ${r.title} | ${p.server} | ${load} | ${fmtRate(p.pubsPerSec)} | ${fmtRate(p.deliveriesPerSec)} | ${ratio} | ${ms(p.latency.p50)} | ${ms(p.latency.p99)} | ${ms(p.latency.p999)} | ${p.expected} | ${drops} | ${p.gaps} | ${p.serverCpu} | ${p.loadgenCpu}${p.redisCpu !== undefined ? ` (+ redis ${p.redisCpu})` : ''} | ${p.otherCpu} |`,
      );
    }
  }
  return rows.join('\n');
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
  out.push('- Pinning: hub or ceiling server on CPU 0; load generators and redis-server on CPU 1 (`taskset`).');
  out.push('');
  out.push('### Targets');
  out.push('');
  out.push('| target | goal | measured | met |');
  out.push('| --- | --- | --- | --- |');
  for (const t of results.targets) out.push(`| ${t.what} | ${t.goal} | ${t.measured} | ${t.met ? 'yes' : '**no**'} |`);
  out.push('');
  out.push('### Fan-out');
  out.push('');
  out.push(
    '`ceiling` is the bare uWebSockets.js server publishing from outside its handlers (its best case); `ceiling-direct` is the same server calling `app.publish` inside the message handler that received the publication, as the hub does. "vs ceiling" is the maximum of the hub as a share of the maximum of the ceiling for the same shape; at fixed rates, compare the latency of the hub and ceiling rows with the same offered load. CPU columns are cores (1.00 = one core busy); "other" is CPU used on the machine by processes outside the benchmark.',
  );
  out.push('');
  out.push(fanoutTable(results.fanout));
  out.push('');
  if (chartPath) {
    out.push(`Latency against offered load: [${chartPath}](${chartPath})`);
    out.push('');
    out.push(`![latency percentiles against offered load](${chartPath})`);
    out.push('');
  }
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

const mb = (k: number) => `${(k / 1024).toFixed(1)} MiB`;

export function consoleTable(results: RunResults): string {
  const lines: string[] = ['', 'Fan-out (max rate): hub vs ceiling'];
  for (const r of results.fanout) {
    const hub = maxOf(r, 'hub');
    const ceiling = ceilingFor(results.fanout, r);
    const direct = ceilingFor(results.fanout, r, 'ceiling-direct');
    if (!hub) continue;
    const ratio = ceiling ? pct(hub.deliveriesPerSec / ceiling.deliveriesPerSec) : '—';
    lines.push(
      `  ${r.title.padEnd(40)} hub ${fmtRate(hub.deliveriesPerSec).padStart(8)}/s  ceiling ${ceiling ? fmtRate(ceiling.deliveriesPerSec).padStart(8) : '—'}/s  ratio ${ratio.padStart(6)}${direct ? `  (ceiling-direct ${fmtRate(direct.deliveriesPerSec)}/s)` : ''}`,
    );
  }
  lines.push('', 'Targets');
  for (const t of results.targets)
    lines.push(`  [${t.met ? 'met ' : 'MISS'}] ${t.what}: ${t.measured} (goal ${t.goal})`);
  return lines.join('\n');
}

// ---- SVG chart ----

const COLORS = { p50: '#2b6cb0', p99: '#dd6b20', p999: '#c53030' } as const;

/**
 * One panel per memory-broker fan-out shape: x = offered deliveries per second (fixed-rate runs,
 * plus the maximum), y = latency in ms on a log scale; solid lines for the hub, dashed for the
 * ceiling server at the same offered rates.
 */
export function latencySvg(results: RunResults): string | undefined {
  const shapes = results.fanout.filter(
    (r) => r.broker === 'memory' && r.points.filter((p) => p.server === 'hub' && p.mode === 'rate').length >= 3,
  );
  if (shapes.length === 0) return undefined;
  const panelW = 460;
  const panelH = 300;
  const margin = { l: 60, r: 20, t: 40, b: 50 };
  const width = shapes.length * (panelW + margin.l + margin.r);
  const height = panelH + margin.t + margin.b + 40;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(
    '<title>Switchboard latency percentiles against offered load, hub and bare uWebSockets.js ceiling</title>',
  );
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  shapes.forEach((r, i) => {
    const ox = i * (panelW + margin.l + margin.r) + margin.l;
    const oy = margin.t;
    const series = ['hub', 'ceiling'].map((server) =>
      r.points
        .filter((p) => p.server === server && p.mode === 'rate' && p.offeredDeliveries)
        .sort((a, b) => (a.offeredDeliveries ?? 0) - (b.offeredDeliveries ?? 0)),
    );
    const all = series.flat();
    const xMax = niceCeil(Math.max(...all.map((p) => p.offeredDeliveries ?? 0)) * 1.05);
    const lat = all.flatMap((p) => [p.latency.p50, p.latency.p99, p.latency.p999]).filter((v) => v > 0);
    const yMin = 10 ** Math.floor(Math.log10(Math.max(0.01, Math.min(...lat))));
    const yMax = 10 ** Math.ceil(Math.log10(Math.max(...lat, yMin * 10)));
    const x = (v: number) => ox + (v / xMax) * panelW;
    const y = (v: number) =>
      oy +
      panelH -
      ((Math.log10(Math.max(v, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * panelH;
    parts.push(
      `<text x="${ox + panelW / 2}" y="${oy - 18}" text-anchor="middle" font-size="14" font-weight="bold">${esc(r.title)}</text>`,
    );
    parts.push(`<rect x="${ox}" y="${oy}" width="${panelW}" height="${panelH}" fill="none" stroke="#888"/>`);
    for (let d = yMin; d <= yMax * 1.0001; d *= 10) {
      parts.push(`<line x1="${ox}" x2="${ox + panelW}" y1="${y(d)}" y2="${y(d)}" stroke="#ddd"/>`);
      parts.push(`<text x="${ox - 6}" y="${y(d) + 4}" text-anchor="end">${fmtMs(d)}</text>`);
    }
    for (let k = 0; k <= 5; k++) {
      const v = (xMax * k) / 5;
      parts.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${oy}" y2="${oy + panelH}" stroke="#eee"/>`);
      parts.push(`<text x="${x(v)}" y="${oy + panelH + 16}" text-anchor="middle">${fmtRate(v)}</text>`);
    }
    parts.push(
      `<text x="${ox + panelW / 2}" y="${oy + panelH + 36}" text-anchor="middle">offered deliveries per second</text>`,
    );
    parts.push(
      `<text transform="translate(${ox - 45} ${oy + panelH / 2}) rotate(-90)" text-anchor="middle">latency (ms, log scale)</text>`,
    );
    series.forEach((points, s) => {
      for (const key of ['p50', 'p99', 'p999'] as const) {
        if (points.length === 0) continue;
        const d = points
          .map(
            (p, k) => `${k === 0 ? 'M' : 'L'}${x(p.offeredDeliveries ?? 0).toFixed(1)},${y(p.latency[key]).toFixed(1)}`,
          )
          .join(' ');
        const dash = s === 1 ? ' stroke-dasharray="6 4"' : '';
        parts.push(`<path d="${d}" fill="none" stroke="${COLORS[key]}" stroke-width="2"${dash}/>`);
        for (const p of points) {
          parts.push(
            `<circle cx="${x(p.offeredDeliveries ?? 0).toFixed(1)}" cy="${y(p.latency[key]).toFixed(1)}" r="3" fill="${s === 0 ? COLORS[key] : 'white'}" stroke="${COLORS[key]}"/>`,
          );
        }
      }
    });
  });
  const ly = height - 14;
  let lx = margin.l;
  for (const key of ['p50', 'p99', 'p999'] as const) {
    parts.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${COLORS[key]}" stroke-width="2"/>`,
    );
    parts.push(`<text x="${lx + 30}" y="${ly}">${key === 'p999' ? 'p99.9' : key}</text>`);
    lx += 90;
  }
  parts.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="#333" stroke-width="2"/>`);
  parts.push(`<text x="${lx + 30}" y="${ly}">Switchboard hub</text>`);
  lx += 150;
  parts.push(
    `<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="#333" stroke-width="2" stroke-dasharray="6 4"/>`,
  );
  parts.push(`<text x="${lx + 30}" y="${ly}">bare uWebSockets.js ceiling</text>`);
  lx += 210;
  parts.push(
    `<text x="${lx}" y="${ly}" fill="#555">${esc(`${results.mode} run ${results.date.slice(0, 10)} · ${results.commit.slice(0, 10)}`)}</text>`,
  );
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function niceCeil(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmtMs(v: number): string {
  return v >= 1 ? `${v} ms` : `${v.toPrecision(1)} ms`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
