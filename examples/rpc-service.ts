// A service answering browsers' calls through Kafka (docs/rpc.md). With the hub of
// examples/hub-rpc.yaml, a browser's `client.rpc('orders.get', { id: 42 })` (or
// `npx switchboard rpc orders.get '{"id":42}'`) reaches it and gets its reply.
// Run: npx tsx examples/rpc-service.ts 127.0.0.1:9092 orders-rpc
import { Kafka, logLevel } from 'kafkajs';
import { Service, ServiceError } from 'switchboard/service';

const [broker = '127.0.0.1:9092', topic = 'orders-rpc'] = process.argv.slice(2);

// The request topic, when Kafka does not create topics on its own. Its partitions are how many
// service instances can share the calls.
const admin = new Kafka({ brokers: [broker], logLevel: logLevel.NOTHING }).admin();
await admin.connect();
if (!(await admin.listTopics()).includes(topic)) await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
await admin.disconnect();

const orders = new Map([[42, { id: 42, status: 'shipped' }]]);
const service = new Service({
  brokers: [broker],
  topic,
  handlers: {
    // `call` says who asks: the caller's user (its token's `sub`) and connection.
    'orders.get': async (data, call) => {
      const id = Number((data as { id?: unknown } | null)?.id);
      const order = orders.get(id);
      // The caller gets 118 with serviceCode 'not_found' and this message.
      if (!order) throw new ServiceError('not_found', `no order ${id}`);
      return { ...order, askedBy: call.user ?? 'anonymous' };
    },
  },
});
await service.start();
console.log(`answering orders.* calls from ${topic}`);
process.once('SIGINT', () => void service.stop().then(() => process.exit(0)));
