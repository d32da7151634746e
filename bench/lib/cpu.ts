/**
 * CPU accounting from /proc: what the processes under test used during a measurement window, and
 * what the rest of the machine used meanwhile ("other load").
 *
 * Times in /proc/<pid>/stat and /proc/stat are in clock ticks (`getconf CLK_TCK`, 100 on Linux
 * x86: one tick is 10 ms, so a 2.5 s window of one busy core is ~250 ticks and reads to ±0.4%).
 * A process's utime+stime covers all its threads (the JVM of Kafka included).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

function clockTicks(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    if (Number.isInteger(ticks) && ticks > 0) return ticks;
  } catch {}
  return 100;
}

/** Clock ticks per second of /proc's CPU times. */
export const CLK_TCK = clockTicks();

/** utime + stime of a process (all its threads), in ticks; 0 once it is gone. */
export function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** User + system CPU time of a process, in seconds. */
export function cpuSeconds(pid: number): number {
  return processTicks(pid) / CLK_TCK;
}

/** Busy ticks of the whole machine (every state but idle and iowait), from /proc/stat. */
function machineBusyTicks(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return f.reduce((a, b) => a + b, 0) - idle;
}

/** The CPU as /proc/cpuinfo names it, with family/model/stepping when the name alone is vague ("AMD EPYC"). */
export function cpuModel(): string {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(info)?.[1]?.trim();
    const name = field('model name') ?? 'unknown';
    const id = ['cpu family', 'model', 'stepping'].map(field);
    const mhz = Number(field('cpu MHz'));
    const details = [
      id.every((x) => x !== undefined) ? `family ${id[0]} model ${id[1]} stepping ${id[2]}` : '',
      Number.isFinite(mhz) && mhz > 0 ? `${Math.round(mhz)} MHz` : '',
    ].filter(Boolean);
    return details.length > 0 ? `${name} (${details.join(', ')})` : name;
  } catch {
    return 'unknown';
  }
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export interface CpuUsage {
  readonly seconds: number;
  /** CPU seconds of each watched process during the window, in the order given. */
  readonly cpuSeconds: number[];
  /** The same as cores (CPU seconds per second of window), rounded to 0.01. */
  readonly cores: number[];
  /** Cores used by everything else on the machine: total busy minus the watched processes and this runner. */
  readonly other: number;
}

let runnerCpu0 = process.cpuUsage();
function runnerSeconds(): number {
  const used = process.cpuUsage(runnerCpu0);
  runnerCpu0 = process.cpuUsage();
  return (used.user + used.system) / 1e6;
}

/**
 * CPU use over a window, sampled at its start (construction) and its end: of each process the
 * bench started and watches, and of the rest of the machine. Pass every process the bench has
 * running (servers, load generators, Redis, Kafka), or they count as other load.
 */
export class CpuWindow {
  private readonly t0 = performance.now();
  private readonly busy0 = machineBusyTicks();
  private readonly own0: number[];
  constructor(private readonly pids: readonly number[]) {
    runnerSeconds();
    this.own0 = pids.map(processTicks);
  }

  end(): CpuUsage {
    const own = this.pids.map((pid, i) => (processTicks(pid) - (this.own0[i] ?? 0)) / CLK_TCK);
    const busy = (machineBusyTicks() - this.busy0) / CLK_TCK;
    const seconds = (performance.now() - this.t0) / 1000;
    const other = Math.max(0, busy - own.reduce((a, b) => a + b, 0) - runnerSeconds()) / seconds;
    return { seconds, cpuSeconds: own, cores: own.map((s) => round2(s / seconds)), other: round2(other) };
  }
}
