/**
 * A machine-wide monotonic clock in microseconds, comparable between processes: Node's
 * `performance.now()` and `process.hrtime` both read CLOCK_MONOTONIC (libuv's uv_hrtime), so
 * the offset between them, taken once, turns the allocation-free `performance.now()` into
 * microseconds since boot. The publisher writes this time into each payload; the receiving
 * process subtracts it from its own reading.
 */
const OFFSET_MS = Number(process.hrtime.bigint()) / 1e6 - performance.now();

export function monoMicros(): number {
  return Math.floor((performance.now() + OFFSET_MS) * 1000);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
