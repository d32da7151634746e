/**
 * `npm test`: makes sure the machine has what the tests need, builds, then runs every test file
 * under test/ with node's test runner (Node 20's --test takes no globs). Arguments narrow the run
 * to files whose path contains one of them: `npm test -- protocol`.
 *
 * 1. Services (test/services/requirements.ts): what is missing is installed with
 *    scripts/services/install.sh when this process may (root with apt-get), or named with that
 *    command before anything else runs.
 * 2. `npm run build`: the hub, the SDK bundle and the type-check of test/, bench/, scripts/.
 * 3. The tests, with source maps, so that failures point at .ts lines; a skipped or todo test
 *    fails the run, since nothing the suite promises may go untested on CI. Files that bound
 *    silences or convergence under load (three hubs, Kafka, Chromium: SERIAL) run after the
 *    rest, one at a time: beside another such file on two cores, a drain's 200 ms silence bound
 *    measured 502 ms for every client, the stopped hub's and the others' alike.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  findExecutable,
  INSTALL_COMMAND,
  missingRequirements,
  type Requirement,
} from '../test/services/requirements.js';

const TAP_FILE = 'artifacts/test/results.tap';
const SERIAL_TAP_FILE = 'artifacts/test/results-serial.tap';
/** Each phase takes 3–5 minutes on two cores; this bounds a hung one well inside CI's time. */
const PHASE_TIMEOUT_MS = 25 * 60_000;

/** Folders whose files run one at a time, after the others. */
export const SERIAL = ['test/chaos/', 'test/e2e/', 'test/browser/'];
export const isSerial = (file: string): boolean => SERIAL.some((folder) => file.startsWith(folder));

/** Node's flags for a run of `files`: source-mapped stack traces, TypeScript through tsx. */
export function nodeTestArgs(files: readonly string[], tapFile = TAP_FILE, concurrency = 2): string[] {
  return [
    '--enable-source-maps',
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ];
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const describeMissing = (missing: readonly Requirement[]) =>
  missing.map((requirement) => `  - ${requirement.name}: for ${requirement.neededBy}`).join('\n');

/** Root with apt-get can install; `NO_SERVICE_INSTALL=1` says not to even then. */
function mayInstall(): boolean {
  return process.getuid?.() === 0 && findExecutable('apt-get') !== undefined && process.env.NO_SERVICE_INSTALL !== '1';
}

function ensureServices(): void {
  const missing = missingRequirements();
  if (missing.length === 0) return;
  if (!mayInstall()) {
    console.error(
      `npm test: the tests need what this machine lacks:\n${describeMissing(missing)}\n` +
        `Install it with (as root, on Debian):\n  ${INSTALL_COMMAND}\nthen run npm test again.`,
    );
    process.exit(1);
  }
  console.error(`npm test: installing what the tests need:\n${describeMissing(missing)}\n$ ${INSTALL_COMMAND}`);
  const install = spawnSync('bash', ['scripts/services/install.sh'], { stdio: 'inherit' });
  const still = missingRequirements();
  if (install.status !== 0 || still.length > 0) {
    console.error(`npm test: ${INSTALL_COMMAND} did not install everything:\n${describeMissing(still)}`);
    process.exit(1);
  }
}

/** Tests reported as skipped or todo, by name, from the TAP report. */
export function unfinishedTests(tap: string): string[] {
  return tap
    .split('\n')
    .filter((line) => /^\s*ok \d+ - .*# (SKIP|TODO)\b/.test(line))
    .map((line) => line.trim().replace(/^ok \d+ - /, ''));
}

function main(): void {
  const filters = process.argv.slice(2);
  const files = testFiles('test')
    .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
    .sort();
  if (files.length === 0) {
    console.error(`no test files match ${filters.join(' ')}`);
    process.exit(1);
  }
  ensureServices();
  const build = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
  mkdirSync('artifacts/test', { recursive: true });
  const runs = [
    { files: files.filter((file) => !isSerial(file)), tap: TAP_FILE, concurrency: 2 },
    { files: files.filter(isSerial), tap: SERIAL_TAP_FILE, concurrency: 1 },
  ].filter((run) => run.files.length > 0);
  // Both phases run even when the first fails, so one run reports every failure.
  let status = 0;
  for (const run of runs) {
    const result = spawnSync(process.execPath, nodeTestArgs(run.files, run.tap, run.concurrency), {
      stdio: 'inherit',
      // A file whose process never ends (a handle left open) would hold the run forever.
      timeout: PHASE_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    if (result.error || result.signal) {
      console.error(
        `npm test: the run did not end within ${PHASE_TIMEOUT_MS / 60_000} minutes (a test file left a process open?)`,
      );
      status = 1;
    } else if (result.status !== 0) status = result.status ?? 1;
  }
  if (status !== 0) process.exit(status);
  const unfinished = runs.flatMap((run) => unfinishedTests(readFileSync(run.tap, 'utf8')));
  if (unfinished.length > 0) {
    console.error(`npm test: no test may be skipped, but these were:\n${unfinished.map((t) => `  ${t}`).join('\n')}`);
    process.exit(1);
  }
}

// Run as the entry point (npm test), not when a test imports the helpers above.
if (process.argv[1] === fileURLToPath(import.meta.url)) main();
