/**
 * The ingress tables: one row per path × broker with publications/s at the maximum, then at half
 * of it the latency, and the CPU per publication of the hub and of Redis and Kafka (at half, and
 * the hub's at the maximum too). Printed by `npm run bench` (console) and in a recorded section.
 */
import { fmtRate } from '../progress.js';
import type { IngressResult } from '../scenarios/ingress.js';
import type { PathCpu, Point } from '../scenarios/measure.js';

const ms = (n: number | undefined) => (n !== undefined && Number.isFinite(n) ? n.toFixed(n < 10 ? 2 : 1) : '—');
const us = (n: number | undefined) => (n === undefined ? '—' : n.toFixed(2));
const service = (p: Point | undefined, name: PathCpu['name']) =>
  (p?.paths ?? (p?.path ? [p.path] : [])).find((x) => x.name === name);
const failures = (p: Point | undefined) => (p ? p.drops + Object.values(p.errors).reduce((a, b) => a + b, 0) : 0);

const HEAD = [
  'ingress',
  'broker',
  'publications/s (max)',
  'at half: publications/s',
  'p50 ms',
  'p99 ms',
  'hub µs/publication (max · half)',
  'redis µs/publication',
  'kafka µs/publication',
  'publisher CPU',
  'drops + errors',
  'other load',
];

/** A measured row's cells, or the reason it has none. */
function cells(r: IngressResult): string[] | string {
  const { max, half } = r;
  if (!max || !half) return r.unavailable ?? 'not measured';
  const disturbed = max.quiet === false || half.quiet === false ? ' disturbed' : '';
  return [
    r.title,
    r.broker,
    fmtRate(max.pubsPerSec),
    fmtRate(half.pubsPerSec),
    ms(half.latency.p50),
    ms(half.latency.p99),
    `${us(max.serverUsPerDelivery)} · ${us(half.serverUsPerDelivery)}`,
    us(service(half, 'redis')?.usPerPublication),
    us(service(half, 'kafka')?.usPerPublication),
    `${max.loadgenCpu} · ${half.loadgenCpu}`,
    String(failures(max) + failures(half)),
    `${Math.max(max.otherCpu, half.otherCpu).toFixed(2)}${disturbed}`,
  ];
}

export function ingressTable(results: readonly IngressResult[], as: 'console' | 'markdown'): string {
  const rows = results.map((r) => ({ r, c: cells(r) }));
  if (as === 'markdown') {
    const blank = HEAD.slice(3).map(() => '');
    return [
      `| ${HEAD.join(' | ')} |`,
      `| --- | --- | ${HEAD.slice(2)
        .map(() => '---:')
        .join(' | ')} |`,
      ...rows.map(({ r, c }) => `| ${(typeof c === 'string' ? [r.title, r.broker, c, ...blank] : c).join(' | ')} |`),
    ].join('\n');
  }
  const widths = HEAD.map((h, i) =>
    Math.max(
      h.length,
      ...rows.map(({ r, c }) => (typeof c === 'string' ? ([r.title, r.broker][i]?.length ?? 0) : (c[i] ?? '').length)),
    ),
  );
  const line = (c: string[]) =>
    `  ${c.map((x, i) => (i < 2 ? x.padEnd(widths[i] ?? 0) : x.padStart(widths[i] ?? 0))).join('  ')}`;
  return [
    line(HEAD),
    ...rows.map(({ r, c }) =>
      typeof c === 'string' ? `  ${r.title.padEnd(widths[0] ?? 0)}  ${r.broker.padEnd(widths[1] ?? 0)}  ${c}` : line(c),
    ),
  ].join('\n');
}

/** The section of a recorded run. */
export function ingressMarkdown(results: readonly IngressResult[]): string {
  return [
    '### Ingress: publications/s into one hub',
    '',
    `${results[0]?.channels ?? 20} channels with one subscriber each; "publications/s (max)" counts publications accepted and delivered per second in a closed loop, "at half" runs at a fixed rate of half that (latency from the publish time in the payload to the subscriber's read). CPU per publication is the process's CPU time over the window divided by the publications delivered in it; "publisher CPU" is the cores of the load generator and, for Kafka, of the producer process (max · half). Method: [What is measured, and how](#ingress-publications-per-second-into-one-hub).`,
    '',
    ingressTable(results, 'markdown'),
    '',
  ].join('\n');
}
