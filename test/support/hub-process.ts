import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, ServiceProcess } from '../services/index.js';

const CLI = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));

export interface HubProcess {
  readonly port: number;
  readonly url: string;
  readonly http: string;
  readonly process: ServiceProcess;
}

/**
 * Runs `switchboard serve` as its own process with `config` (written as a file), on a free port
 * unless one is given, and waits until `/readyz` answers 200. Its log goes to artifacts/services.
 */
export async function spawnHub(config: object, port?: number): Promise<HubProcess> {
  const hubPort = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-hub-'));
  const file = join(dir, 'hub.json');
  writeFileSync(
    file,
    // No balancer unless the config says so (a cluster does): a stopped hub need not wait for one.
    JSON.stringify({
      host: '127.0.0.1',
      log: { level: 'warn' },
      demo: { enabled: false },
      shutdownDelaySeconds: 0,
      ...config,
    }),
  );
  const http = `http://127.0.0.1:${hubPort}`;
  const process = new ServiceProcess({
    name: 'hub',
    port: hubPort,
    command: globalThis.process.execPath,
    args: [CLI, 'serve', '--config', file],
    env: { ...globalThis.process.env, PORT: String(hubPort) },
    ready: async () => {
      const response = await fetch(`${http}/readyz`).catch(() => undefined);
      return response?.status === 200;
    },
    readyTimeoutMs: 60_000,
    stopGraceMs: 15_000,
  });
  await process.start();
  return { port: hubPort, url: `ws://127.0.0.1:${hubPort}/ws`, http, process };
}
