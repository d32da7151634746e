/**
 * One supervised service process for integration tests: spawn, log capture to
 * artifacts/services/<name>-<port>.log, bounded readiness wait, stop (SIGTERM,
 * then SIGKILL), kill9, and start again on the same port (restart).
 * Every live child is SIGKILLed when the test process exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { serviceLogDir } from './paths.js';
import { INSTALL_COMMAND } from './requirements.js';

/** Returns true once the service answers; must itself be bounded in time. */
export type ReadinessProbe = () => Promise<boolean>;

/** What every service the tests run can do: the lifecycle a chaos test drives. */
export interface ManagedService {
  readonly host: string;
  readonly port: number;
  /** PID of the current process (undefined while stopped). */
  readonly pid: number | undefined;
  readonly logFile: string;
  readonly process: ServiceProcess;
  /** Starts it again after stop() or kill9(), on the same port(s). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** stop + start. */
  restart(): Promise<void>;
  kill9(): Promise<void>;
  /** stop() and remove everything it left on disk (also done at process exit). */
  destroy(): Promise<void>;
}

export interface ServiceProcessOptions {
  /** Short name used in the log file name and errors, e.g. "redis". */
  name: string;
  /** The service's main port (log file name; restarts reuse it). */
  port: number;
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  ready: ReadinessProbe;
  /** Bound on the readiness wait (default 30 s). */
  readyTimeoutMs?: number;
  /** Pause between readiness probes (default 200 ms). */
  probeIntervalMs?: number;
  /** SIGTERM grace before SIGKILL in stop() (default 5 s). */
  stopGraceMs?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all. */
  spawnError?: string;
}

const TAIL_LINES = 40;
/** After SIGKILL a process must be gone within this bound. */
const KILL_WAIT_MS = 10_000;

// ---------------------------------------------------------------- exit hooks

const liveChildren = new Set<ChildProcess>();
const exitCleanups = new Set<() => void>();
let hooksInstalled = false;

function killEverythingSync(): void {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  liveChildren.clear();
  for (const cleanup of exitCleanups) {
    try {
      cleanup();
    } catch {
      // best effort at exit
    }
  }
  exitCleanups.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  killEverythingSync();
  // If nobody else handles this signal, restore the default behaviour (terminate).
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killEverythingSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
}

/** Registers a synchronous cleanup (e.g. removing a temp dir) run at process exit. Returns an unregister function. */
export function registerExitCleanup(cleanup: () => void): () => void {
  installExitHooks();
  exitCleanups.add(cleanup);
  return () => {
    exitCleanups.delete(cleanup);
  };
}

// ------------------------------------------------------------------- process

interface Running {
  child: ChildProcess;
  log: WriteStream;
  logClosed: boolean;
  exited: Promise<ExitInfo>;
  exit: ExitInfo | undefined;
}

export class ServiceProcess {
  readonly name: string;
  readonly port: number;
  readonly logFile: string;
  /** Milliseconds the last successful start() took until ready. */
  lastReadyMs: number | undefined;

  private readonly opts: ServiceProcessOptions;
  private current: Running | undefined;
  private readonly tail: string[] = [];
  private paused = false;

  constructor(opts: ServiceProcessOptions) {
    this.opts = opts;
    this.name = opts.name;
    this.port = opts.port;
    this.logFile = path.join(serviceLogDir, `${opts.name}-${opts.port}.log`);
  }

  get pid(): number | undefined {
    return this.running ? this.current?.child.pid : undefined;
  }

  get running(): boolean {
    return this.current !== undefined && this.current.exit === undefined;
  }

  /** Resolves when the current process has exited (immediately if none). */
  exited(): Promise<ExitInfo | undefined> {
    return this.current ? this.current.exited : Promise.resolve(undefined);
  }

  /** Spawns the process and waits until the readiness probe passes. Throws (with the log tail) on failure. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name}:${this.port} is already running (pid ${this.pid})`);
    installExitHooks();
    const startedAt = Date.now();
    const running = this.spawnChild();
    this.current = running;

    const readyTimeoutMs = this.opts.readyTimeoutMs ?? 30_000;
    const intervalMs = this.opts.probeIntervalMs ?? 200;
    const deadline = startedAt + readyTimeoutMs;
    const exitedAsFalse = running.exited.then(() => false);
    // Spawn failures (ENOENT, EACCES) are reported asynchronously: wait for 'spawn' or the failure.
    await new Promise<void>((resolve) => {
      running.child.once('spawn', () => resolve());
      void running.exited.then(() => resolve());
    });
    if (running.exit?.spawnError?.includes('ENOENT'))
      throw new Error(
        `${this.name}: ${this.opts.command} is not installed (not found on PATH); install it with: ${INSTALL_COMMAND}`,
      );
    for (;;) {
      if (running.exit) throw this.startError(`exited during startup (${describeExit(running.exit)})`);
      let ok = false;
      try {
        ok = await Promise.race([this.opts.ready(), exitedAsFalse]);
      } catch {
        ok = false;
      }
      if (running.exit) throw this.startError(`exited during startup (${describeExit(running.exit)})`);
      if (ok) {
        this.lastReadyMs = Date.now() - startedAt;
        this.note(`=== ready after ${this.lastReadyMs} ms (pid ${running.child.pid})`);
        return;
      }
      if (Date.now() >= deadline) {
        await this.kill9();
        throw this.startError(`not ready within ${readyTimeoutMs} ms`);
      }
      await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
    }
  }

  /**
   * SIGSTOP: the process keeps its sockets open but answers nothing, like a paused VM, a host
   * swapping, or a failover behind a proxy that holds the connection.
   */
  pause(): void {
    const running = this.current;
    if (!running || running.exit || this.paused) return;
    this.note('=== SIGSTOP');
    running.child.kill('SIGSTOP');
    this.paused = true;
  }

  /** SIGCONT after pause(). */
  resume(): void {
    const running = this.current;
    if (!running || running.exit || !this.paused) return;
    this.note('=== SIGCONT');
    running.child.kill('SIGCONT');
    this.paused = false;
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves once the process has exited. */
  async stop(graceMs: number = this.opts.stopGraceMs ?? 5_000): Promise<void> {
    const running = this.current;
    if (!running || running.exit) return;
    // A stopped process would hold SIGTERM until continued.
    this.resume();
    this.note(`=== stop: SIGTERM (grace ${graceMs} ms)`);
    running.child.kill('SIGTERM');
    const timer = new AbortController();
    const exitedInTime = await Promise.race([
      running.exited.then(() => true),
      sleep(graceMs, false, { signal: timer.signal }).catch(() => false),
    ]);
    timer.abort();
    if (exitedInTime) return;
    this.note(`=== stop: still running after ${graceMs} ms, SIGKILL`);
    await this.kill9();
  }

  /** SIGKILL; resolves once the process has exited. */
  async kill9(): Promise<void> {
    const running = this.current;
    if (!running || running.exit) return;
    this.note('=== SIGKILL');
    running.child.kill('SIGKILL');
    this.paused = false;
    const timer = new AbortController();
    const exited = await Promise.race([
      running.exited.then(() => true),
      sleep(KILL_WAIT_MS, false, { signal: timer.signal }).catch(() => false),
    ]);
    timer.abort();
    if (!exited)
      throw new Error(
        `${this.name}:${this.port} (pid ${running.child.pid}) did not exit ${KILL_WAIT_MS} ms after SIGKILL`,
      );
  }

  /** stop() then start() with the same command line (same ports, same data dirs). */
  async restart(graceMs?: number): Promise<void> {
    await this.stop(graceMs);
    await this.start();
  }

  /** The last lines the process printed (stdout and stderr interleaved). */
  logTail(): string {
    return this.tail.join('\n');
  }

  private spawnChild(): Running {
    mkdirSync(serviceLogDir, { recursive: true });
    const log: WriteStream = createWriteStream(this.logFile, { flags: 'a' });
    log.on('error', () => {}); // a broken log file must not crash the tests
    this.tail.length = 0;
    const header = `=== ${new Date().toISOString()} start: ${this.opts.command} ${this.opts.args.join(' ')}`;
    log.write(`${header}\n`);

    const child = spawn(this.opts.command, [...this.opts.args], {
      cwd: this.opts.cwd,
      env: this.opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: false,
    });
    const running: Running = {
      child,
      log,
      logClosed: false,
      exited: Promise.resolve({ code: null, signal: null }),
      exit: undefined,
    };
    if (child.pid !== undefined) liveChildren.add(child);
    // A service must never keep the test process alive: forgotten services are
    // SIGKILLed by the exit hook instead of making the test file hang.
    child.unref();
    for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();

    const capture = (stream: NodeJS.ReadableStream | null): void => {
      if (!stream) return;
      let partial = '';
      stream.on('data', (chunk: Buffer) => {
        log.write(chunk);
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) this.pushTail(line);
      });
      stream.on('end', () => {
        if (partial) this.pushTail(partial);
        partial = '';
      });
    };
    capture(child.stdout);
    capture(child.stderr);

    const closeLog = (line: string): void => {
      if (running.logClosed) return;
      running.logClosed = true;
      log.end(`${line}\n`);
    };
    running.exited = new Promise<ExitInfo>((resolve) => {
      const finish = (info: ExitInfo): void => {
        if (running.exit) return;
        running.exit = info;
        liveChildren.delete(child);
        this.pushTail(`=== exited (${describeExit(info)})`);
        resolve(info);
      };
      child.once('exit', (code, signal) => finish({ code, signal }));
      child.once('error', (err) => {
        if (child.pid === undefined) {
          this.pushTail(`=== spawn failed: ${err.message}`);
          finish({ code: null, signal: null, spawnError: err.message });
          closeLog(`=== spawn failed: ${err.message}`);
        }
      });
      child.once('close', (code, signal) =>
        closeLog(`=== ${new Date().toISOString()} exited (${describeExit({ code, signal })})`),
      );
    });
    return running;
  }

  /** Harness events go to the tail and to the log file. */
  private note(line: string): void {
    this.pushTail(line);
    const running = this.current;
    if (running && !running.logClosed) running.log.write(`${line}\n`);
  }

  private pushTail(line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.splice(0, this.tail.length - TAIL_LINES);
  }

  private startError(reason: string): Error {
    return new Error(
      `${this.name} on port ${this.port} failed to start: ${reason}\n` +
        `--- last ${TAIL_LINES} lines of ${this.logFile} ---\n${this.logTail()}`,
    );
  }
}

function describeExit(info: ExitInfo): string {
  if (info.spawnError) return `spawn error: ${info.spawnError}`;
  return info.signal ? `signal ${info.signal}` : `code ${String(info.code)}`;
}
