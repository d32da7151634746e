import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CloseCode, codecs, ErrorCode, type WireFormat } from '@switchboard/protocol';
import fc from 'fast-check';
import type { TestHub } from '../support/hub.js';
import { RawClient } from '../support/raw-client.js';
import { waitFor } from '../support/wait.js';
import { mint, startSecureHub, Watcher } from './support.js';

// A real collection before each memory reading, without needing node --expose-gc.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;
const heapUsed = () => {
  collect();
  collect();
  return process.memoryUsage().heapUsed;
};

const COMMANDS = ['connect', 'sub', 'unsub', 'pub', 'refresh', 'ping', 'msg', 'ok', 'launch', ''];

/** Something shaped like a frame, with every key optional and every value of any type. */
const frameish = fc.record(
  {
    t: fc.oneof(fc.constantFrom(...COMMANDS), fc.anything()),
    id: fc.oneof(fc.integer({ min: -2, max: 2 ** 33 }), fc.double(), fc.anything()),
    ch: fc.oneof(
      fc.constantFrom('news:eu', 'admin:1', 'orders:1', 'watch:fuzz'),
      fc.string({ maxLength: 300 }),
      fc.anything(),
    ),
    d: fc.anything({ maxDepth: 4 }),
    token: fc.oneof(fc.string({ maxLength: 64 }), fc.constantFrom('a.b.c', 'eyJhbGciOiJub25lIn0.e30.'), fc.anything()),
    since: fc.oneof(fc.record({ ep: fc.string(), off: fc.integer() }), fc.anything()),
  },
  { requiredKeys: [] },
);

type Payload =
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'text'; text: string }
  | { kind: 'value'; value: unknown };
const payload: fc.Arbitrary<Payload> = fc.oneof(
  fc.uint8Array({ maxLength: 600 }).map((bytes) => ({ kind: 'bytes' as const, bytes })),
  fc.string({ maxLength: 300 }).map((text) => ({ kind: 'text' as const, text })),
  fc.oneof(frameish, fc.jsonValue({ maxDepth: 5 }), fc.anything({ maxDepth: 3 })).map((value) => ({
    kind: 'value' as const,
    value,
  })),
);

function encode(format: WireFormat, value: unknown): Uint8Array | undefined {
  try {
    return codecs[format].encode(value as object);
  } catch {
    return undefined;
  }
}

function sendPayload(client: RawClient, format: WireFormat, item: Payload): number {
  if (item.kind === 'bytes') client.sendBytes(item.bytes);
  else if (item.kind === 'text') client.sendBytes(item.text);
  else {
    const bytes = encode(format, item.value);
    if (!bytes) return 0;
    client.sendBytes(bytes);
  }
  return 1;
}

let pingId = 4_000_000_000;

/** Sends a ping after the junk and waits for its reply, or for the socket to close. */
async function settle(client: RawClient): Promise<void> {
  if (client.closed) return;
  const id = ++pingId;
  client.send({ t: 'ping', id });
  await waitFor(
    () => client.closed !== undefined || client.frames.some((f) => (f.t === 'ok' || f.t === 'err') && f.id === id),
    'the hub to answer or close',
  );
}

/** Close codes a hostile stream may legitimately earn; 4002 (a handler threw) or 1006 would be a bug. */
const EXPECTED_CLOSES = new Set<number>([
  CloseCode.MALFORMED_FRAME,
  CloseCode.UNAUTHORIZED,
  CloseCode.TOKEN_EXPIRED,
  CloseCode.FRAME_TOO_LARGE,
]);

describe('attack: a flood of malformed frames and random bytes', () => {
  let hub: TestHub;
  let watcher: Watcher;
  let token: string;
  let baseline: number;
  let cases = 0;
  before(async () => {
    hub = await startSecureHub({
      limits: {
        maxFrameBytes: 1024,
        maxConnectionsPerIp: 100_000,
        connectsPerSecondPerIp: 100_000,
        connectBurstPerIp: 100_000,
        messagesPerSecond: 1_000_000,
        messageBurst: 1_000_000,
      },
    });
    watcher = await Watcher.start(hub, 'fuzz');
    token = await mint({ sub: 'fuzzer', channels: ['orders:*'], publish: ['orders:*'] });
    // Warm up the code paths once, so that the baseline holds their compiled code.
    const warm = await RawClient.open(hub.url);
    warm.send({ t: 'connect', id: 1, token });
    await settle(warm);
    warm.close();
    await watcher.assertHealthy(hub);
    baseline = heapUsed();
  });
  after(async () => {
    watcher.close();
    await hub.stop();
  });

  it('survives thousands of hostile streams on fresh sockets: 0 crashes, precise closes', async () => {
    const closes = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<WireFormat>('msgpack', 'json'),
        fc.boolean(),
        fc.array(payload, { minLength: 1, maxLength: 6 }),
        async (format, authenticate, items) => {
          const client = await RawClient.open(hub.url, format);
          if (authenticate) client.send({ t: 'connect', id: 7, token });
          for (const item of items) cases += sendPayload(client, format, item);
          await settle(client);
          if (client.closed) closes.set(client.closed.code, (closes.get(client.closed.code) ?? 0) + 1);
          client.close();
          const internal = client.frames.filter((f) => f.t === 'err' && f.code === ErrorCode.INTERNAL);
          assert.deepEqual(internal, [], 'no request failed inside the hub');
          assert.ok(!client.closed || EXPECTED_CLOSES.has(client.closed.code), `closed with ${client.closed?.code}`);
        },
      ),
      { numRuns: 1_000 },
    );
    assert.ok((closes.get(CloseCode.MALFORMED_FRAME) ?? 0) > 100, 'random bytes were refused as malformed');
    await watcher.assertHealthy(hub);
  });

  it('survives thousands of well-formed but hostile frames on one authenticated socket', async () => {
    const client = await RawClient.open(hub.url, 'json');
    await client.ok({ t: 'connect', token });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(frameish, fc.jsonValue({ maxDepth: 4 })), { minLength: 1, maxLength: 10 }),
        async (values) => {
          for (const value of values) {
            const bytes = encode('json', value);
            // Frames over the size limit close the socket with 1009 (tested on its own).
            if (!bytes || bytes.byteLength > 1024) continue;
            client.sendBytes(bytes);
            cases += 1;
          }
          await settle(client);
          assert.equal(client.closed, undefined, 'a parseable frame never costs the connection');
        },
      ),
      { numRuns: 500 },
    );
    const internal = client.frames.filter((f) => f.t === 'err' && f.code === ErrorCode.INTERNAL);
    assert.deepEqual(internal, []);
    client.close();
    await watcher.assertHealthy(hub);
  });

  it('ran thousands of cases, and memory is back near its baseline', async () => {
    assert.ok(cases >= 3_000, `${cases} hostile frames`);
    await waitFor(() => hub.node.sessions.size === 1, 'only the bystander to remain');
    const growth = heapUsed() - baseline;
    assert.ok(growth < 16 * 1024 * 1024, `heap grew by ${(growth / 1024 / 1024).toFixed(1)} MiB`);
    assert.equal(hub.node.streams.channelCount, 1, 'only the bystander channel is subscribed');
    await watcher.assertHealthy(hub);
  });
});
