/**
 * What the test suite needs on the machine besides Node, and where each thing is found. The test
 * runner (scripts/test.ts) checks these before it builds anything, so that a missing service is
 * named with its fix in the first second instead of failing a suite halfway through.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { KAFKA_VERSION, kafkaHome, repoRoot } from './paths.js';

/** The one command that installs everything below (Debian, as root). */
export const INSTALL_COMMAND = 'bash scripts/services/install.sh';

/** Where install.sh puts tools that Debian does not package (kustomize, when no kubectl is there). */
export const LOCAL_BIN = path.join(repoRoot, '.cache', 'bin');

/** The executable `name` on PATH (or in `extraDirs`), or undefined. */
export function findExecutable(name: string, extraDirs: readonly string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Chromium for the browser tests: `CHROMIUM_PATH` when set (it must exist), else `chromium` or
 * `chromium-browser` on PATH. Throws a message that says how to get one.
 */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  const named = env.CHROMIUM_PATH;
  if (named !== undefined && named !== '') {
    try {
      accessSync(named, constants.X_OK);
      return named;
    } catch {
      throw new Error(`CHROMIUM_PATH=${named} is not an executable file`);
    }
  }
  const found = findExecutable('chromium') ?? findExecutable('chromium-browser');
  if (found) return found;
  throw new Error(`Chromium not found on PATH: run ${INSTALL_COMMAND}, or set CHROMIUM_PATH to a Chromium binary`);
}

/** `kustomize build` or `kubectl kustomize`, whichever is installed (kustomize from install.sh first). */
export function kustomizeCommand(): string[] | undefined {
  const kustomize = findExecutable('kustomize', [LOCAL_BIN]);
  if (kustomize) return [kustomize, 'build'];
  const kubectl = findExecutable('kubectl');
  return kubectl ? [kubectl, 'kustomize'] : undefined;
}

export interface Requirement {
  /** What is missing, as a person would name it. */
  readonly name: string;
  /** Which tests need it. */
  readonly neededBy: string;
  readonly present: () => boolean;
}

const has = (find: () => unknown) => () => {
  try {
    return Boolean(find());
  } catch {
    return false;
  }
};

export const REQUIREMENTS: readonly Requirement[] = [
  {
    name: 'redis-server',
    neededBy: 'the Redis broker, e2e and chaos tests',
    present: has(() => findExecutable('redis-server')),
  },
  {
    name: 'redis-cli',
    neededBy: 'the Redis Cluster and Sentinel tests (cluster create, failover checks)',
    present: has(() => findExecutable('redis-cli')),
  },
  { name: 'haproxy', neededBy: 'the scale-out and chaos tests', present: has(() => findExecutable('haproxy')) },
  { name: 'java', neededBy: 'the Kafka tests (Kafka runs on the JVM)', present: has(() => findExecutable('java')) },
  {
    name: `Apache Kafka ${KAFKA_VERSION} jars`,
    neededBy: 'the Kafka tests',
    present: () => existsSync(path.join(kafkaHome(), 'libs', `kafka_2.13-${KAFKA_VERSION}.jar`)),
  },
  { name: 'chromium', neededBy: 'the browser tests', present: has(() => chromiumPath()) },
  { name: 'kustomize (or kubectl)', neededBy: 'the k8s manifest tests', present: has(() => kustomizeCommand()) },
];

/** The names of what is missing, in the order above. */
export function missingRequirements(requirements: readonly Requirement[] = REQUIREMENTS): Requirement[] {
  return requirements.filter((requirement) => !requirement.present());
}
