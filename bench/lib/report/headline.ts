/**
 * The headline of a run, one row per fan-out scenario at the hub's maximum: server CPU per
 * delivery and its ratio to the ceiling's, deliveries per second and theirs, p99, bytes per push
 * and the other load during the window. Printed by `npm run bench` (console) and at the top of a
 * recorded section (markdown).
 */
import { fmtRate } from '../progress.js';
import { ingressTable } from './ingress.js';
import {
  ceilingFor,
  costRatio,
  fixed,
  maxOf,
  otherLoad,
  pct,
  type RunResults,
  throughputRatio,
  times,
} from './results.js';

const HEAD = [
  'scenario',
  'server',
  'deliveries/s',
  'p99 ms',
  'server µs/delivery',
  'cost vs ceiling',
  'deliveries vs ceiling',
  'bytes/push',
  'path µs/delivery',
  'other load',
];

function rows(results: RunResults): string[][] {
  const out: string[][] = [];
  for (const r of results.fanout) {
    const ceiling = ceilingFor(results.fanout, r);
    for (const server of ['hub', 'ceiling', 'ceiling-direct']) {
      const p = maxOf(r, server);
      if (!p) continue;
      const hub = server === 'hub';
      const through = hub ? throughputRatio(p, ceiling) : undefined;
      out.push([
        hub ? r.title : '',
        server,
        fmtRate(p.deliveriesPerSec),
        p.latency.p99.toFixed(1),
        fixed(p.serverUsPerDelivery),
        hub ? times(costRatio(p, ceiling)) : '',
        through === undefined ? (hub ? '—' : '') : pct(through),
        String(p.pushBytes ?? p.frameBytes),
        p.path ? `${p.path.name} ${fixed(p.path.usPerDelivery)}` : '',
        `${p.otherCpu.toFixed(2)}${p.quiet === false ? ' disturbed' : ''}`,
      ]);
    }
  }
  return out;
}

export function headlineTable(results: RunResults, as: 'console' | 'markdown'): string {
  const body = rows(results);
  if (as === 'markdown') {
    return [
      `| ${HEAD.join(' | ')} |`,
      `| --- | --- | ${HEAD.slice(2)
        .map(() => '---:')
        .join(' | ')} |`,
      ...body.map((r) => `| ${r.join(' | ')} |`),
    ].join('\n');
  }
  const widths = HEAD.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    `  ${r.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')}`;
  return [line(HEAD), ...body.map(line)].join('\n');
}

export function consoleTable(results: RunResults): string {
  const other = otherLoad(results);
  const lines = [''];
  if (results.fanout.length > 0) {
    lines.push(
      `Fan-out at the maximum (${results.machine.cpuModel}): server CPU per delivery and deliveries/s, hub against the ceiling of the same shape`,
      headlineTable(results, 'console'),
      '',
    );
  }
  if (results.ingress && results.ingress.length > 0) {
    lines.push(
      `Ingress into one hub (${results.ingress[0]?.channels ?? 20} channels × 1 subscriber): publications/s at the maximum; at half of it, latency and CPU per publication`,
      ingressTable(results.ingress, 'console'),
      '',
    );
  }
  lines.push(
    `Other load: at most ${other.max} cores in a window; ${other.disturbed} of ${other.windows} windows at ${other.threshold} core or more${other.disturbed > 0 ? ' (disturbed: read those rows with care)' : ''}.`,
    '',
    'Targets',
  );
  for (const t of results.targets)
    lines.push(`  [${t.met ? 'met ' : 'MISS'}] ${t.what}: ${t.measured} (goal ${t.goal})`);
  return lines.join('\n');
}
