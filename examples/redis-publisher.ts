// A service publishing recoverable publications straight into the hubs' Redis.
// Run: npx tsx examples/redis-publisher.ts redis://127.0.0.1:6379 orders:42 '{"status":"shipped"}'
import { Publisher } from 'switchboard/publisher';

const [url = 'redis://127.0.0.1:6379', channel = 'orders:42', json = '{"status":"shipped"}'] = process.argv.slice(2);
const publisher = new Publisher({ url });
await publisher.connect();
console.log(await publisher.publish(channel, JSON.parse(json)));
await publisher.close();
