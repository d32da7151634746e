import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '@switchboard/protocol';
import { Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { Header, parseReplyAddress } from '../../../src/rpc/wire.js';
import { type Call, Service, ServiceError } from '../../../src/service.js';
import { createTopics, type KafkaService, startKafka } from '../../services/index.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { RawClient } from '../../support/raw-client.js';
import { sleep, waitFor } from '../../support/wait.js';

/** The value of counter `name` with `labels` in a hub's /metrics text. */
async function metric(hub: TestHub, name: string, labels: string): Promise<number> {
  const text = await (await hub.node.metrics.registry.metrics()).toString();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('rpc over kafka', () => {
  let kafka: KafkaService;
  let hub: TestHub;
  let service: Service;
  const calls: Call[] = [];
  before(async () => {
    kafka = await startKafka();
    await createTopics(kafka.brokers, ['orders-rpc', 'nobody-rpc', 'commands'], 3);
    hub = await startHub({
      kafka: { brokers: kafka.brokers, produceTimeoutMs: 2_000 },
      namespaces: { cmd: { egress: { type: 'kafka', topic: 'commands' } } },
      rpc: {
        replyPartitions: 4,
        routes: [
          { type: 'kafka', prefix: 'orders.', topic: 'orders-rpc', key: 'connection', timeoutMs: 10_000 },
          { type: 'kafka', prefix: 'nobody.', topic: 'nobody-rpc', key: 'connection', timeoutMs: 500 },
        ],
      },
    });
    await waitFor(() => hub.node.rpc.isReady(), 'the reply consumer to fetch', 60_000);
    service = new Service({
      brokers: kafka.brokers,
      topic: 'orders-rpc',
      handlers: {
        'orders.get': (data, call) => {
          calls.push(call);
          return { order: data, status: 'paid' };
        },
        'orders.refund': () => {
          throw new ServiceError('already_refunded', 'order 42 was refunded yesterday');
        },
      },
    });
    await service.start();
  });
  after(async () => {
    await service?.stop();
    await hub?.stop();
    await kafka?.destroy();
  });

  it("answers a call with the service's reply, which reaches the calling connection", async () => {
    const client = await RawClient.connected(hub.url);
    // The service's group may still be joining: its first calls can time out, so ask until one is answered.
    let reply = await client.request({ t: 'rpc', method: 'orders.get', d: { id: 42 } });
    for (let i = 0; reply.t === 'err' && i < 20; i++)
      reply = await client.request({ t: 'rpc', method: 'orders.get', d: { id: 42 } });
    assert.deepEqual(reply.t === 'ok' && reply.r, { d: { order: { id: 42 }, status: 'paid' } });
    const call = calls.at(-1);
    assert.equal(call?.method, 'orders.get');
    assert.equal(call?.connection.startsWith(hub.node.id), true);
    assert.ok((call?.deadline ?? 0) > Date.now());
    client.close();
  });

  it("answers a service's error with 118 and the service's own code", async () => {
    const client = await RawClient.connected(hub.url);
    const reply = await client.request({ t: 'rpc', method: 'orders.refund', d: { id: 42 } });
    assert.deepEqual(reply, {
      t: 'err',
      id: reply.id,
      code: ErrorCode.SERVICE_ERROR,
      msg: 'order 42 was refunded yesterday',
      svc: 'already_refunded',
    });
    client.close();
  });

  it('answers 116 for a method no route names, and 117 when nobody answers in time', async () => {
    const client = await RawClient.connected(hub.url);
    const unrouted = await client.request({ t: 'rpc', method: 'users.get', d: 1 });
    assert.equal(unrouted.t === 'err' && unrouted.code, ErrorCode.NO_ROUTE);
    const unanswered = await client.request({ t: 'rpc', method: 'nobody.home', d: 1 });
    assert.deepEqual(unanswered.t === 'err' && [unanswered.code, unanswered.tmp], [ErrorCode.RPC_TIMEOUT, true]);
    assert.deepEqual(await client.ok({ t: 'ping' }), undefined);
    client.close();
  });

  it('drops and counts a reply after the deadline and one for a connection that is gone', async () => {
    const requests: KafkaMessage[] = [];
    const consumer = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).consumer({
      groupId: `late-${process.pid}`,
    });
    await consumer.connect();
    await consumer.subscribe({ topic: 'nobody-rpc', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        requests.push(message);
      },
    });
    const header = (message: KafkaMessage | undefined, name: string) => message?.headers?.[name]?.toString() ?? '';
    const reply = async (request: KafkaMessage | undefined) => {
      const address = parseReplyAddress(header(request, Header.REPLY_TO));
      await producer.send({
        topic: address?.topic ?? '',
        messages: [
          {
            partition: address?.partition ?? 0,
            value: JSON.stringify({ data: 'too late' }),
            headers: { [Header.CORRELATION]: header(request, Header.CORRELATION), [Header.HUB]: address?.hub ?? '' },
          },
        ],
      });
    };
    const producer = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    const late = await metric(hub, 'switchboard_rpc_replies_dropped_total', 'reason="late"');
    const gone = await metric(hub, 'switchboard_rpc_replies_dropped_total', 'reason="gone"');
    const client = await RawClient.connected(hub.url);
    const timedOut = await client.request({ t: 'rpc', method: 'nobody.late', d: 1 });
    assert.equal(timedOut.t === 'err' && timedOut.code, ErrorCode.RPC_TIMEOUT);
    client.send({ t: 'rpc', id: 999, method: 'nobody.gone', d: 2 });
    const methods = () => requests.map((m) => header(m, Header.METHOD));
    await waitFor(() => methods().includes('nobody.gone'), 'both requests to be read', 30_000);
    client.close();
    await waitFor(() => hub.node.rpc.calls.size === 0, 'the closed connection to drop its call');
    for (const method of ['nobody.late', 'nobody.gone'])
      await reply(requests.find((m) => header(m, Header.METHOD) === method));
    const counted = async () =>
      (await metric(hub, 'switchboard_rpc_replies_dropped_total', 'reason="late"')) === late + 1 &&
      (await metric(hub, 'switchboard_rpc_replies_dropped_total', 'reason="gone"')) === gone + 1;
    for (let i = 0; i < 100 && !(await counted()); i++) await sleep(100);
    await consumer.disconnect();
    await producer.disconnect();
    assert.ok(await counted(), 'one late and one gone reply counted');
  });

  it('drops and counts a reply addressed to another hub on its partition', async () => {
    const before = await metric(hub, 'switchboard_rpc_replies_dropped_total', 'reason="other_hub"');
    const address = parseReplyAddress(hub.node.rpc.replyTo ?? '');
    const producer = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({
      topic: hub.node.config.rpc.replyTopic,
      messages: [
        {
          partition: address?.partition ?? 0,
          value: JSON.stringify({ data: 1 }),
          headers: { [Header.CORRELATION]: 'x.1', [Header.HUB]: 'another-hub' },
        },
      ],
    });
    await producer.disconnect();
    for (let i = 0; i < 100; i++) {
      if ((await metric(hub, 'switchboard_rpc_replies_dropped_total', 'reason="other_hub"')) === before + 1) return;
      await sleep(100);
    }
    assert.fail('the reply for another hub was not counted');
  });

  it('produces a keyed publish once: a retry with the same key is acknowledged, not produced again', async () => {
    const received: KafkaMessage[] = [];
    const consumer = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).consumer({
      groupId: `dedupe-${process.pid}`,
    });
    await consumer.connect();
    await consumer.subscribe({ topic: 'commands', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        received.push(message);
      },
    });
    const client = await RawClient.connected(hub.url);
    const first = await client.request({ t: 'pub', ch: 'cmd:pay', d: { n: 1 }, key: 'k-1' });
    const again = await client.request({ t: 'pub', ch: 'cmd:pay', d: { n: 1 }, key: 'k-1' });
    const other = await client.request({ t: 'pub', ch: 'cmd:pay', d: { n: 2 }, key: 'k-2' });
    assert.deepEqual([first.t, again.t, other.t], ['ok', 'ok', 'ok']);
    await waitFor(() => received.length >= 2, 'both keys to arrive', 30_000);
    await sleep(500);
    await consumer.disconnect();
    assert.deepEqual(
      received.map((m) => m.headers?.['idempotency-key']?.toString()),
      ['k-1', 'k-2'],
    );
    client.close();
  });
});
