// A service publishing to Switchboard through Kafka: the key names the channel.
// Run: npx tsx examples/kafka-producer.ts 127.0.0.1:9092 orders orders:42 '{"status":"shipped"}'
import { Kafka, Partitioners } from 'kafkajs';

const [broker = '127.0.0.1:9092', topic = 'orders', channel = 'orders:42', json = '{"status":"shipped"}'] =
  process.argv.slice(2);
const producer = new Kafka({ clientId: 'example-service', brokers: [broker] }).producer({
  createPartitioner: Partitioners.DefaultPartitioner,
});
await producer.connect();
await producer.send({ topic, acks: -1, messages: [{ key: channel, value: json }] });
await producer.disconnect();
console.log(`produced to ${topic} for ${channel}`);
