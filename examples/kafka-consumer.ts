// A service consuming what clients publish into a namespace whose egress is a Kafka topic.
// Run: npx tsx examples/kafka-consumer.ts 127.0.0.1:9092 commands
import { Kafka } from 'kafkajs';

const [broker = '127.0.0.1:9092', topic = 'commands'] = process.argv.slice(2);
const consumer = new Kafka({ clientId: 'example-service', brokers: [broker] }).consumer({ groupId: 'example-service' });
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
await consumer.run({
  eachMessage: async ({ message }) => {
    const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
    console.log(JSON.stringify({ channel: message.key?.toString(), data: JSON.parse(String(message.value)), headers }));
  },
});
