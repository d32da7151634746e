import { type Config, parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { SwitchboardNode } from '../../src/node.js';
import { WS_PATH } from '../../src/transport/server.js';
import { freePort } from '../services/ports.js';

export interface TestHub {
  readonly node: SwitchboardNode;
  readonly port: number;
  /** The WebSocket URL of the hub. */
  readonly url: string;
  /** The HTTP base URL of the hub. */
  readonly http: string;
  stop(): Promise<void>;
}

type DeepPartial<T> = {
  [K in keyof T]?: NonNullable<T[K]> extends readonly unknown[]
    ? T[K]
    : NonNullable<T[K]> extends object
      ? DeepPartial<NonNullable<T[K]>>
      : T[K];
};

/** Starts a real hub in this process on a free loopback port (memory broker unless overridden). */
export async function startHub(overrides: DeepPartial<Config> = {}): Promise<TestHub> {
  // An explicit port, never 0: Linux refuses to rebind an auto-assigned port while connections
  // to it linger in TIME_WAIT, and tests restart hubs on the same port.
  const port = overrides.port ?? (await freePort());
  const config = parseConfig({
    host: '127.0.0.1',
    log: { level: 'silent' },
    shutdownGraceSeconds: 0,
    // No balancer in front of a test hub: nothing to wait for before it stops.
    shutdownDelaySeconds: 0,
    // No simulated publications in tests that do not ask for them.
    demo: { enabled: false },
    ...overrides,
    port,
  });
  const node = new SwitchboardNode(config, createLogger(config.log.level, 2));
  await node.start();
  return {
    node,
    port,
    url: `ws://127.0.0.1:${port}${WS_PATH}`,
    http: `http://127.0.0.1:${port}`,
    stop: () => node.stop(),
  };
}
