import { after, before } from 'node:test';
import { mint, SECRET } from '../security/support.js';
import { startHub, type TestHub } from '../support/hub.js';
import { RawClient } from '../support/raw-client.js';

export const API_KEY = 'cli-control-plane-test-api-key';

/** For the enclosing suite: a hub with an API key, tokens and a room with presence; and connections of users on it. */
export function useControlHub(): {
  hub: () => TestHub;
  /** What the CLI needs to reach the hub. */
  env: () => NodeJS.ProcessEnv;
  /** A connection of `user`, connected; its client id. */
  connect: (user: string, claims?: Record<string, unknown>) => Promise<{ client: RawClient; id: string }>;
} {
  let hub: TestHub | undefined;
  const open: RawClient[] = [];
  before(async () => {
    hub = await startHub({
      auth: { keys: [{ alg: 'HS256', secret: SECRET }] },
      http: { apiKey: API_KEY },
      namespaces: {
        room: { subscribe: 'authenticated', presence: { enabled: true } },
        news: { subscribe: 'authenticated' },
      },
    } as unknown as Parameters<typeof startHub>[0]);
  });
  after(async () => {
    for (const client of open) client.close();
    await hub?.stop();
  });
  const running = () => {
    if (!hub) throw new Error('the hub has not started');
    return hub;
  };
  return {
    hub: running,
    env: () => ({ SWITCHBOARD_API_URL: running().http, SWITCHBOARD_API_KEY: API_KEY }),
    connect: async (user, claims = {}) => {
      const client = await RawClient.open(running().url);
      open.push(client);
      const result = await client.ok({ t: 'connect', token: await mint({ sub: user, ...claims }, { alg: 'HS256' }) });
      return { client, id: (result as { client: string }).client };
    },
  };
}
