import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, parseConfig } from '../../src/config.js';

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('config', () => {
  it('has working defaults: port 8080, memory broker, bounded limits', () => {
    const config = parseConfig({});
    assert.equal(config.port, 8080);
    assert.equal(config.broker.type, 'memory');
    assert.equal(config.limits.maxFrameBytes, 64 * 1024);
    assert.equal(config.defaultNamespace.history.size, 10_000);
    assert.equal(config.defaultNamespace.clientPublish, true);
    assert.equal(config.allowFallbackTransport, false);
  });

  it('names the key and the problem of an invalid value', () => {
    const problems = problemsOf(() => parseConfig({ limits: { maxFrameBytes: 'big' } }));
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /^limits\.maxFrameBytes: /);
  });

  it('names unknown keys instead of ignoring them', () => {
    const problems = problemsOf(() => parseConfig({ limits: { maxFrameByte: 10 } }));
    assert.match(problems[0] ?? '', /limits\.maxFrameByte/);
  });

  it('rejects an idle timeout the transport cannot honour', () => {
    const problems = problemsOf(() => parseConfig({ limits: { idleTimeoutSeconds: 30 } }));
    assert.match(problems[0] ?? '', /limits\.idleTimeoutSeconds: must be a multiple of 4/);
  });

  it('reads a YAML file, then lets environment variables override it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-config-'));
    const file = join(dir, 'hub.yaml');
    writeFileSync(file, 'port: 9000\nnamespaces:\n  orders:\n    history: { size: 5 }\n');
    const config = loadConfig(file, { PORT: '9100', SWITCHBOARD_LIMITS__MAX_FRAME_BYTES: '2048' });
    assert.equal(config.port, 9100);
    assert.equal(config.limits.maxFrameBytes, 2048);
    assert.equal(config.namespaces.orders?.history.size, 5);
    assert.equal(config.namespaces.orders?.history.ttlSeconds, 120);
  });

  it('maps SWITCHBOARD_ variables to camel-cased nested keys', () => {
    const config = loadConfig(undefined, {
      SWITCHBOARD_ALLOW_FALLBACK_TRANSPORT: 'true',
      SWITCHBOARD_LOG__LEVEL: 'warn',
    });
    assert.equal(config.allowFallbackTransport, true);
    assert.equal(config.log.level, 'warn');
  });

  it('takes an environment value that reads as JSON as text where the key wants text', () => {
    const config = loadConfig(undefined, { SWITCHBOARD_HTTP__API_KEY: '12345678901234567890123456789012' });
    assert.equal(config.http.apiKey, '12345678901234567890123456789012');
  });

  it('ignores the CLI client variables', () => {
    const config = loadConfig(undefined, { SWITCHBOARD_URL: 'ws://hub/ws', SWITCHBOARD_TOKEN_SECRET: 'x' });
    assert.equal(config.port, 8080);
  });

  it('reports an environment override of the wrong type by its key', () => {
    const problems = problemsOf(() => loadConfig(undefined, { PORT: 'eighty' }));
    assert.match(problems[0] ?? '', /^port: /);
  });

  it('refuses Kafka ingress or egress without the kafka settings, naming the namespace key', () => {
    const problems = problemsOf(() => parseConfig({ namespaces: { orders: { kafkaIngress: { topic: 'orders' } } } }));
    assert.deepEqual(problems, ['namespaces.orders.kafkaIngress: needs the top-level kafka settings']);
  });

  it('names the key of an rpc route that needs Kafka, has a bad topic, or repeats a prefix', () => {
    const route = { type: 'kafka', prefix: 'orders.', topic: 'orders-rpc' };
    assert.deepEqual(
      problemsOf(() => parseConfig({ rpc: { routes: [route] } })),
      ['rpc.routes.0: needs the top-level kafka settings'],
    );
    const kafka = { brokers: ['127.0.0.1:9092'] };
    assert.match(
      problemsOf(() => parseConfig({ kafka, rpc: { routes: [{ ...route, topic: 'no spaces' }] } }))[0] ?? '',
      /^rpc\.routes\.0\.topic: /,
    );
    assert.deepEqual(
      problemsOf(() => parseConfig({ kafka, rpc: { routes: [route, route] } })),
      ['rpc.routes.1.prefix: another route has it'],
    );
  });

  it('takes proxy hooks beside the trusted proxies, and names the key of a bad one', () => {
    const config = parseConfig({ proxy: { trusted: ['10.0.0.1'], connect: { url: 'http://127.0.0.1:3000/connect' } } });
    assert.deepEqual([config.proxy.trusted, config.proxy.connect?.timeoutMs], [['10.0.0.1'], 3_000]);
    assert.match(
      problemsOf(() => parseConfig({ proxy: { publish: { url: 'ftp://x' } } }))[0] ?? '',
      /^proxy\.publish\.url: /,
    );
    assert.match(problemsOf(() => parseConfig({ proxy: { subscribe: {} } }))[0] ?? '', /^proxy\.subscribe\.url: /);
  });

  it('refuses a Redis egress without a url unless the broker is Redis', () => {
    const egress = { type: 'redis-stream', stream: 'out' };
    const problems = problemsOf(() => parseConfig({ namespaces: { chat: { egress } } }));
    assert.deepEqual(problems, [
      'namespaces.chat.egress.url: required unless the broker is one redis (not a cluster or shards)',
    ]);
    assert.doesNotThrow(() => parseConfig({ broker: { type: 'redis' }, namespaces: { chat: { egress } } }));
  });

  it('names the broker key of a malformed Redis URL', () => {
    const problems = problemsOf(() => parseConfig({ broker: { type: 'redis', url: 'http://x' } }));
    assert.match(problems[0] ?? '', /^broker\.url: must be a redis:\/\/, rediss:\/\/ or redis\+sentinel:\/\//);
  });

  it('takes a Redis Cluster, or shards that may be Sentinel-managed groups, but not both', () => {
    const cluster = ['redis://127.0.0.1:7000'];
    const shards = ['redis://127.0.0.1:6379', 'redis+sentinel://127.0.0.1:26379,127.0.0.1:26380/orders'];
    assert.deepEqual(parseConfig({ broker: { type: 'redis', cluster } }).broker, {
      ...parseConfig({ broker: { type: 'redis' } }).broker,
      cluster,
    });
    assert.doesNotThrow(() => parseConfig({ broker: { type: 'redis', shards } }));
    assert.deepEqual(
      problemsOf(() => parseConfig({ broker: { type: 'redis', cluster, shards } })),
      ['broker.shards: cluster and shards exclude each other'],
    );
    assert.match(
      problemsOf(() => parseConfig({ broker: { type: 'redis', shards: ['redis+sentinel://127.0.0.1:26379'] } }))[0] ??
        '',
      /^broker\.shards\.0: must be/,
    );
  });

  it('reports a missing or unreadable file', () => {
    const problems = problemsOf(() => loadConfig('/nonexistent/hub.yaml', {}));
    assert.match(problems[0] ?? '', /config file \/nonexistent\/hub\.yaml/);
  });

  it('reports a file that is not a mapping', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-config-'));
    const file = join(dir, 'hub.yaml');
    writeFileSync(file, '- 1\n- 2\n');
    const problems = problemsOf(() => loadConfig(file, {}));
    assert.match(problems[0] ?? '', /must hold a mapping/);
  });
});

describe('docs/configuration.md', () => {
  it('documents every configuration key', async () => {
    const { readFileSync } = await import('node:fs');
    const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const leaves = (value: unknown, prefix: string): string[] =>
      typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0
        ? Object.entries(value).flatMap(([key, inner]) => leaves(inner, prefix ? `${prefix}.${key}` : key))
        : [prefix];
    const config = parseConfig({});
    const keys = leaves({ ...config, defaultNamespace: {} }, '').filter((key) => key !== 'namespaces');
    const namespaceKeys = leaves(config.defaultNamespace, '');
    for (const key of [...keys, ...namespaceKeys]) assert.ok(doc.includes(`\`${key}\``), `${key} is documented`);
  });
});
