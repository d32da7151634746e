/**
 * The latency chart: hand-written SVG, latency percentiles against offered load, one panel per
 * memory-broker fan-out shape with at least three fixed rates; hub solid, ceiling dashed.
 */
import { fmtRate } from '../progress.js';
import type { RunResults } from './results.js';

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
