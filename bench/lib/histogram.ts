/**
 * A log-linear latency histogram over integer microseconds (HDR-style): exact below 128 µs,
 * then 64 buckets per power of two (≤ 1.6% relative error), up to 2^31 µs. Recording is one
 * array increment, no allocation; histograms of several processes merge by adding counts.
 */
const LINEAR = 128;
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
const MAX_EXP = 31;
export const BUCKETS = LINEAR + (MAX_EXP - 7) * SUB;

export class Histogram {
  readonly counts = new Float64Array(BUCKETS);
  total = 0;
  max = 0;

  record(micros: number): void {
    let v = micros < 0 ? 0 : micros | 0;
    if (v > 0x7fffffff) v = 0x7fffffff;
    if (v > this.max) this.max = v;
    this.total += 1;
    if (v < LINEAR) {
      this.counts[v] = (this.counts[v] ?? 0) + 1;
      return;
    }
    const exp = 31 - Math.clz32(v);
    const index = LINEAR + (exp - 7) * SUB + ((v >>> (exp - SUB_BITS)) & (SUB - 1));
    this.counts[index] = (this.counts[index] ?? 0) + 1;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.max = 0;
  }

  /** Sparse form for IPC: [index, count, index, count, …]. */
  toSparse(): number[] {
    const out: number[] = [];
    for (let i = 0; i < BUCKETS; i++) {
      const c = this.counts[i] ?? 0;
      if (c > 0) out.push(i, c);
    }
    return out;
  }

  addSparse(sparse: readonly number[], max: number): void {
    for (let i = 0; i + 1 < sparse.length; i += 2) {
      const index = sparse[i] ?? 0;
      const count = sparse[i + 1] ?? 0;
      this.counts[index] = (this.counts[index] ?? 0) + count;
      this.total += count;
    }
    if (max > this.max) this.max = max;
  }

  /** The value (µs, upper edge of its bucket) below which a fraction `q` of the samples lie. */
  quantile(q: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.min(upperEdge(i), this.max);
    }
    return this.max;
  }

  mean(): number {
    if (this.total === 0) return Number.NaN;
    let sum = 0;
    for (let i = 0; i < BUCKETS; i++) {
      const c = this.counts[i] ?? 0;
      if (c > 0) sum += c * midpoint(i);
    }
    return sum / this.total;
  }
}

function lowerEdge(index: number): number {
  if (index < LINEAR) return index;
  const exp = Math.floor((index - LINEAR) / SUB) + 7;
  const sub = (index - LINEAR) % SUB;
  return (SUB + sub) * 2 ** (exp - SUB_BITS);
}

function upperEdge(index: number): number {
  if (index < LINEAR) return index;
  const exp = Math.floor((index - LINEAR) / SUB) + 7;
  return lowerEdge(index) + 2 ** (exp - SUB_BITS) - 1;
}

function midpoint(index: number): number {
  return (lowerEdge(index) + upperEdge(index)) / 2;
}

/** Latency percentiles in milliseconds, as reported. */
export interface Percentiles {
  readonly samples: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

export function percentiles(h: Histogram): Percentiles {
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    samples: h.total,
    p50: ms(h.quantile(0.5)),
    p90: ms(h.quantile(0.9)),
    p99: ms(h.quantile(0.99)),
    p999: ms(h.quantile(0.999)),
    max: ms(h.max),
    mean: ms(h.mean()),
  };
}
