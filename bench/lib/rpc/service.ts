/**
 * The service of the RPC scenario, in a process of its own: answers every call on the request
 * topic with its data (switchboard/service), and says `ready` over IPC once it consumes.
 * Argv: brokers (comma-separated), topic.
 */
import { Service } from '../../../src/service.js';

const [brokers = '', topic = ''] = process.argv.slice(2);
const service = new Service({ brokers: brokers.split(','), topic, handler: (data) => data });
await service.start();
process.send?.({ ready: true });
process.on('SIGTERM', () => {
  void service.stop().finally(() => process.exit(0));
});
