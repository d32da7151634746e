// A service streaming a model's answer token by token to the browser through Switchboard.
// Run: npx tsx examples/llm-stream/service.ts <answer id> [kafka|redis] [tokens] [tokens per second]
//   kafka: produces to topic llm-tokens keyed by channel llm:<answer id> (the hub's Kafka ingress
//          gives each token its position, in the order of the partition);
//   redis: publishes with the publisher helper straight into the hubs' Redis.
// Each token is {i, t}; the last publication is {i, done: true}, so a page knows the answer ended.
import { Kafka, Partitioners } from 'kafkajs';
import { Publisher } from 'switchboard/publisher';

const [answer = 'a1', via = 'kafka', count = '1500', rate = '50'] = process.argv.slice(2);
const channel = `llm:${answer}`;
const total = Number(count);
const intervalMs = 1000 / Number(rate);

/** A stand-in for a model: words of a fixed text, 10–30 bytes a token with their JSON. */
const WORDS = 'the hub replays exactly what a reloaded page missed and then continues live'.split(' ');
const tokenAt = (i: number) => ({ i, t: `${i === 1 ? '' : ' '}${WORDS[(i - 1) % WORDS.length]}` });

type Send = (data: unknown) => Promise<void>;

async function viaKafka(): Promise<[Send, () => Promise<void>]> {
  const producer = new Kafka({ clientId: 'llm-service', brokers: ['127.0.0.1:9092'] }).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
  });
  await producer.connect();
  const send: Send = async (data) => {
    await producer.send({ topic: 'llm-tokens', acks: -1, messages: [{ key: channel, value: JSON.stringify(data) }] });
  };
  return [send, () => producer.disconnect()];
}

async function viaRedis(): Promise<[Send, () => Promise<void>]> {
  // The history the hubs keep for namespace llm (mode: append).
  const publisher = new Publisher({ url: 'redis://127.0.0.1:6379', history: { size: 50_000, ttlSeconds: 3600 } });
  await publisher.connect();
  return [async (data) => void (await publisher.publish(channel, data)), () => publisher.close()];
}

const [send, close] = via === 'redis' ? await viaRedis() : await viaKafka();
for (let i = 1; i <= total; i++) {
  await send(tokenAt(i));
  await new Promise((resolve) => setTimeout(resolve, intervalMs));
}
await send({ i: total + 1, done: true });
await close();
console.log(`streamed ${total} tokens to ${channel} via ${via}`);
