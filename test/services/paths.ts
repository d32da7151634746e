/** Locations the service harness needs, resolved from this file (not the cwd). */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root: test/services/ -> ../../ */
export const repoRoot: string = fileURLToPath(new URL('../../', import.meta.url));

/** Where service logs go: artifacts/services/<name>-<port>.log */
export const serviceLogDir: string = path.join(repoRoot, 'artifacts', 'services');

/** Kafka version fetched by scripts/services/install.sh (keep in sync with its pom). */
export const KAFKA_VERSION = '3.9.2';

/** Folder holding kafka log4j.properties and libs/ (override with SWITCHBOARD_KAFKA_HOME). */
export function kafkaHome(): string {
  return process.env.SWITCHBOARD_KAFKA_HOME ?? path.join(repoRoot, '.cache', `kafka-${KAFKA_VERSION}`);
}

/** The Kafka jar folder; throws a clear error when install.sh has not been run. */
export function kafkaLibsDir(): string {
  const libs = path.join(kafkaHome(), 'libs');
  const jar = `kafka_2.13-${KAFKA_VERSION}.jar`;
  if (!existsSync(libs) || !readdirSync(libs).includes(jar)) {
    throw new Error(`Kafka jars not found (${path.join(libs, jar)} is missing): run scripts/services/install.sh`);
  }
  return libs;
}

/** log4j.properties written by install.sh. */
export function kafkaLog4jFile(): string {
  const file = path.join(kafkaHome(), 'log4j.properties');
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: run scripts/services/install.sh`);
  }
  return file;
}
