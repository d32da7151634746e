import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { Client, ClientErrorCode, type SwitchboardError } from '@switchboard/client';
import { ErrorCode } from '@switchboard/protocol';
import { Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import WebSocket from 'ws';
import { type Call, Service } from '../../src/service.js';
import { type KafkaCluster, startKafkaCluster } from '../support/cluster.js';
import { sleep, waitFor } from '../support/wait.js';

/**
 * Services in the loop, on real Kafka and three hub processes (memory broker, no Redis) behind
 * HAProxy: browsers call a service through Kafka and each gets its own reply back through
 * whichever hub holds its connection; a hub killed mid-call, a stopped service and a frozen
 * Kafka each end in a clear answer, and client publishes reach the service exactly once.
 */

const CLIENTS = 300;
const CALLS_PER_CLIENT = 20;
const SLOW_MS = 400;

const HUB_CONFIG = (brokers: string[]) => ({
  kafka: { brokers, produceTimeoutMs: 4_000 },
  namespaces: { ev: { egress: { type: 'kafka', topic: 'events' } } },
  rpc: {
    replyPartitions: 8,
    routes: [
      { type: 'kafka', prefix: 'svc.', topic: 'calls', timeoutMs: 15_000 },
      { type: 'kafka', prefix: 'svc.quick.', topic: 'calls', timeoutMs: 1_500 },
    ],
  },
});

/** What the service answers: the call's data and who made it, after a pause for `svc.slow`. */
async function answer(data: unknown, call: Call): Promise<unknown> {
  if (call.method === 'svc.slow') await sleep(SLOW_MS);
  return { echo: data, connection: call.connection };
}

interface Caller {
  readonly client: Client;
  /** The hub names of its connections, latest last. */
  readonly nodes: string[];
}

describe('services in the loop: rpc through Kafka across hubs, and egress exactly once', () => {
  let cluster: KafkaCluster;
  let service: Service;
  let callers: Caller[] = [];
  const hubName = (index: number) => `${hostname()}-${cluster.hubs[index]?.process.pid}`;

  before(async () => {
    cluster = await startKafkaCluster({ hubs: 3, topics: ['calls', 'events'], config: HUB_CONFIG });
    service = new Service({ brokers: cluster.kafka.brokers, topic: 'calls', handler: answer });
    await service.start();
    callers = Array.from({ length: CLIENTS }, () => {
      const client = new Client(cluster.url, {
        WebSocket,
        requestTimeoutMs: 20_000,
        backoff: { initialMs: 100, maxMs: 1_000 },
      });
      const caller: Caller = { client, nodes: [] };
      client.on('connected', (result) => caller.nodes.push(result.node ?? '?'));
      client.connect();
      return caller;
    });
    await waitFor(() => callers.every((c) => c.client.state === 'connected'), 'every client to connect', 60_000);
    // The service's consumer group may still be joining: ask until a call is answered.
    for (let i = 0; ; i++) {
      const answered = await callers[0]?.client.rpc('svc.quick.ping', i).then(
        () => true,
        () => false,
      );
      if (answered) break;
      if (i > 40) throw new Error('the service never answered');
    }
  });
  after(async () => {
    for (const { client } of callers) client.close();
    await service?.stop();
    await cluster?.stop();
  });

  it(`gives each of ${CLIENTS} clients on three hubs exactly its own reply to each of ${CALLS_PER_CLIENT} calls`, async () => {
    const hubs = new Set(callers.map((c) => c.nodes.at(-1)));
    assert.equal(hubs.size, 3, 'the balancer spread the clients over the three hubs');
    let replies = 0;
    let crossed = 0;
    const failures = new Map<string, number>();
    await Promise.all(
      callers.map(async (caller, index) => {
        for (let n = 0; n < CALLS_PER_CLIENT; n++) {
          try {
            const reply = (await caller.client.rpc('svc.echo', { index, n })) as { echo: { index: number; n: number } };
            replies += 1;
            if (reply.echo.index !== index || reply.echo.n !== n) crossed += 1;
          } catch (error) {
            const code = String((error as SwitchboardError).code);
            failures.set(code, (failures.get(code) ?? 0) + 1);
          }
        }
      }),
    );
    const calls = CLIENTS * CALLS_PER_CLIENT;
    const lost = calls - replies;
    console.log(
      `rpc across 3 hubs: calls ${calls}, replies ${replies}, crossed ${crossed}, lost ${lost}, failures ${JSON.stringify(Object.fromEntries(failures))}`,
    );
    assert.deepEqual({ replies, crossed, lost }, { replies: calls, crossed: 0, lost: 0 });
  });

  it('fails the calls in flight on a hub killed with -9 as disconnected, and completes everyone else’s', async () => {
    const victim = hubName(0);
    const onVictim = (c: Caller) => c.nodes.at(-1) === victim;
    const outcomes = callers.map(() => ({ ok: 0, disconnected: 0, other: 0 }));
    const run = Promise.all(
      callers.map(async (caller, index) => {
        const outcome = outcomes[index] as { ok: number; disconnected: number; other: number };
        for (let n = 0; n < 4; n++) {
          try {
            await caller.client.rpc('svc.slow', { index, n });
            outcome.ok += 1;
          } catch (error) {
            if ((error as SwitchboardError).code === ClientErrorCode.DISCONNECTED) outcome.disconnected += 1;
            else outcome.other += 1;
          }
        }
      }),
    );
    const victims = callers.filter(onVictim);
    await sleep(SLOW_MS / 2);
    await cluster.hubs[0]?.process.kill9();
    await run;
    const sum = (group: number[]) => group.reduce((a, b) => a + b, 0);
    const victimIndexes = callers.flatMap((c, i) => (victims.includes(c) ? [i] : []));
    const others = outcomes.filter((_, i) => !victimIndexes.includes(i));
    const hit = victimIndexes.map((i) => outcomes[i] as { ok: number; disconnected: number; other: number });
    console.log(
      `hub killed: ${victims.length} clients on it, their in-flight calls failed ${sum(hit.map((o) => o.disconnected))} disconnected and ${sum(hit.map((o) => o.other))} otherwise, later calls ok ${sum(hit.map((o) => o.ok))}; ${others.length} other clients: ok ${sum(others.map((o) => o.ok))}, failed ${sum(others.map((o) => o.disconnected + o.other))}`,
    );
    assert.ok(victims.length > 0);
    assert.deepEqual(
      hit.map((o) => [o.disconnected, o.other, o.ok]),
      hit.map(() => [1, 0, 3]),
      'each victim lost exactly its call in flight, as disconnected, and the rest went through another hub',
    );
    assert.deepEqual(
      others.map((o) => o.ok),
      others.map(() => 4),
    );
    await cluster.respawn(0);
  });

  it('answers each publish while Kafka is frozen with an ack or 115, and the service sees each message exactly once', async () => {
    const publishers = callers.slice(0, 30);
    const firstAnswers = new Map<string, number>();
    const tally = (answer: string) => firstAnswers.set(answer, (firstAnswers.get(answer) ?? 0) + 1);
    const keys: string[] = [];
    const pid = cluster.kafka.pid;
    assert.ok(pid);
    const publishes = publishers.flatMap(({ client }, index) =>
      Array.from({ length: 3 }, async (_, n) => {
        await sleep(n * 300);
        const key = `k-${index}-${n}`;
        keys.push(key);
        let first = true;
        // By hand, with the same key, to see every answer: the SDK would retry it itself.
        for (let attempt = 0; attempt < 20; attempt++) {
          try {
            await client.publish(`ev:${index}`, { index, n }, { key, retryMs: 0 });
            if (first) tally('ack');
            return;
          } catch (error) {
            const code = (error as SwitchboardError).code;
            const unknown = code === ErrorCode.OUTCOME_UNKNOWN || code === ClientErrorCode.TIMEOUT;
            if (first) tally(unknown ? 'outcome unknown' : `other ${code}`);
            first = false;
            await sleep(500);
          }
        }
        tally('never acknowledged');
      }),
    );
    await sleep(200);
    process.kill(pid, 'SIGSTOP');
    await sleep(15_000);
    process.kill(pid, 'SIGCONT');
    await Promise.all(publishes);
    // The topic is read afterwards, from its beginning, by a consumer that did not live through
    // the freeze (kafkajs consumers can stop fetching after their broker was paused). By
    // partition and offset: what counts is the records in the topic.
    const records = new Map<string, KafkaMessage>();
    const consumer = new Kafka({ brokers: cluster.kafka.brokers, logLevel: logLevel.NOTHING }).consumer({
      groupId: `events-${process.pid}-${Date.now()}`,
    });
    await consumer.connect();
    await consumer.subscribe({ topic: 'events', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        records.set(`${partition}:${message.offset}`, message);
      },
    });
    const seen = () => [...records.values()];
    try {
      const missing = () => {
        const present = new Set(seen().map(keyOf));
        return keys.filter((key) => !present.has(key));
      };
      await waitFor(() => missing().length === 0, 'the service to see every key', 60_000).catch((error: Error) => {
        // Which keys, and how their publishes were answered, say whether a record is missing or the reader stalled.
        const answers = JSON.stringify(Object.fromEntries(firstAnswers));
        throw new Error(
          `${error.message}: missing ${missing().join(', ')} of ${records.size} records; answers ${answers}`,
        );
      });
      await sleep(1_000);
    } finally {
      // Also when the wait fails: a live consumer would keep this file's process from ending.
      await consumer.disconnect();
    }
    const perKey = new Map<string, number>();
    for (const message of seen()) perKey.set(keyOf(message), (perKey.get(keyOf(message)) ?? 0) + 1);
    const duplicates = [...perKey.values()].reduce((sum, count) => sum + count - 1, 0);
    const lost = keys.filter((key) => !perKey.has(key)).length;
    console.log(
      `kafka frozen 15 s: publishes ${keys.length}, first answers ${JSON.stringify(Object.fromEntries(firstAnswers))}, records ${records.size}, duplicates ${duplicates}, lost ${lost}`,
    );
    assert.deepEqual(
      [...firstAnswers.keys()].filter((a) => a !== 'ack' && a !== 'outcome unknown'),
      [],
    );
    assert.ok((firstAnswers.get('outcome unknown') ?? 0) > 0, 'some publishes met the frozen Kafka');
    assert.deepEqual({ duplicates, lost }, { duplicates: 0, lost: 0 });
  });

  it('answers 117 while the service is stopped, and the hubs stay ready', async () => {
    await service.stop();
    const codes = await Promise.all(
      callers.slice(0, 20).map(({ client }) =>
        client.rpc('svc.quick.echo', 1).then(
          () => 'answered',
          (error: SwitchboardError) => error.code,
        ),
      ),
    );
    const answers = new Map<string, number>();
    for (const code of codes) answers.set(String(code), (answers.get(String(code)) ?? 0) + 1);
    console.log(`service stopped: calls 20, answers ${JSON.stringify(Object.fromEntries(answers))}`);
    assert.deepEqual(
      codes,
      codes.map(() => ErrorCode.RPC_TIMEOUT),
    );
    for (const hub of cluster.hubs) assert.equal((await fetch(`${hub.http}/readyz`)).status, 200);
  });
});

function keyOf(message: KafkaMessage): string {
  return message.headers?.['idempotency-key']?.toString() ?? '';
}
