import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A dependency only some configurations use (ioredis, kafkajs, ajv, jose, yaml), loaded when the
 * first object that needs it is made rather than when the hub starts: a hub on the embedded
 * defaults started at 96 MB with all of them loaded (docs/BENCHMARKS.md, start-up memory).
 * Synchronous (`require`, which Node 20 also applies to ES modules), so that constructors can
 * use it; `import type` gives callers the module's types.
 */
export function optional<T>(name: 'ioredis' | 'kafkajs' | 'ajv' | 'jose' | 'yaml'): T {
  return require(name) as T;
}
