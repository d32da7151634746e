/**
 * Operations without a gap, measured against real Redis, HAProxy and three hub processes, all on
 * the default configuration but for the cluster's drain timing (test/support/cluster.ts): a hub
 * stopped with SIGTERM under load moves its clients make-before-break, and clients whose sockets
 * are cut over and over recover everything from the default history.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Publisher } from '../../src/publisher.js';
import { type Cluster, startCluster } from '../support/cluster.js';
import { assertExact, channelsOf } from '../support/exact.js';
import { Fleet } from '../support/fleet.js';
import { Flow } from '../support/flow.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { sleep } from '../support/wait.js';

/** Publications per second over all channels of a test. */
const RATE = 200;

/** Publishes `{seq}` with POST /api/publish at `base`; anything but 200 is a failure, with its status and body. */
const overHttp = (base: string) => async (channel: string, seq: number) => {
  const response = await fetch(`${base}/api/publish`, {
    method: 'POST',
    body: JSON.stringify({ channel, data: { seq } }),
  });
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
};

describe('chaos: moving and cutting clients on the default configuration (Redis, HAProxy, three hubs)', () => {
  let cluster: Cluster;
  let publisher: Publisher;
  const fleets: Fleet[] = [];
  const proxies: TcpProxy[] = [];

  /** Publishes through the publisher helper straight into Redis, so that no hub is on the path. */
  const viaRedis = (channel: string, seq: number) => publisher.publish(channel, { seq });

  before(async () => {
    cluster = await startCluster({ hubs: 3 });
    publisher = new Publisher({ url: cluster.redis.url });
    await publisher.connect();
  });
  after(async () => {
    for (const fleet of fleets) fleet.close();
    for (const proxy of proxies) await proxy.close();
    await publisher?.close();
    await cluster?.stop();
  });

  it('SIGTERM to one of three hubs under 200 msg/s with 200 clients: nothing lost, doubled or reordered, no client silent for more than two intervals plus 100 ms, every HTTP publish through HAProxy answered 200', async () => {
    // Each client hears one of the 10 channels: 20 publications a second, one every 50 ms.
    const names = channelsOf('drain', 10);
    const fleet = await Fleet.connect(cluster.url, 200, (i) => [names[i % names.length] as string]);
    fleets.push(fleet);
    const intervalMs = 1000 / (RATE / names.length);
    const boundMs = 2 * intervalMs + 100;
    const flow = Flow.start(names, RATE, viaRedis);
    const http = Flow.start(['drainhttp:0'], 50, overHttp(`http://127.0.0.1:${cluster.haproxy.port}`));
    await sleep(500);
    // The same measure while nothing happens, for comparison.
    fleet.measureSilences();
    await sleep(1_500);
    const before = fleet.silences();
    fleet.measureSilences();
    const victim = cluster.hubs[1];
    assert.ok(victim);
    const stopping = Date.now();
    await victim.process.stop();
    const exitedAfterMs = Date.now() - stopping;
    await sleep(1_000);
    await Promise.all([flow.stop(), http.stop()]);
    const silences = fleet.silences();
    await cluster.respawn(1);
    await assertExact('SIGTERM (make-before-break drain)', fleet, flow.acked);
    const moved = fleet.members.filter((member) => member.nodes.length > 1).length;
    const disconnected = fleet.members.filter((member) => member.disconnects > 0).length;
    console.log(
      `chaos SIGTERM: the hub exited ${exitedAfterMs} ms after SIGTERM; ${moved} of ${fleet.members.length} clients moved, ${disconnected} ever without a connection; ` +
        `longest silence per client from SIGTERM to the hub's exit and 1 s on: max ${silences.longestMs.toFixed(0)} ms, p99 ${silences.p99Ms.toFixed(0)} ms, p50 ${silences.p50Ms.toFixed(0)} ms ` +
        `(bound ${boundMs} ms = 2 × ${intervalMs} ms + 100 ms; in the 1.5 s before SIGTERM: max ${before.longestMs.toFixed(0)} ms, p50 ${before.p50Ms.toFixed(0)} ms); ` +
        `HTTP publishes through HAProxy: ${http.count} answered 200, ${http.failures.length} failed`,
    );
    assert.deepEqual(http.failures.map(String), [], 'every HTTP publish sent through HAProxy succeeds');
    assert.ok(moved > 0, 'some clients were on the stopped hub');
    assert.equal(disconnected, 0, 'make-before-break: no client was ever without a connection');
    assert.ok(
      silences.longestMs <= boundMs,
      `${silences.over(boundMs)} clients went ${silences.longestMs.toFixed(0)} ms at most without a message`,
    );
  });

  it('sockets cut every 2 s for 1.5 s at 200 msg/s for 20 s, with the default history: every publication delivered, once, in order', async () => {
    const proxy = await TcpProxy.start(cluster.haproxy.port);
    proxies.push(proxy);
    // 100 msg/s on each channel: a 1.5 s cut alone misses more than the former default history of 100.
    const names = channelsOf('cuts', 2);
    const fleet = await Fleet.connect(proxy.urlFor(cluster.url), 40, () => names);
    fleets.push(fleet);
    const flow = Flow.start(names, RATE, viaRedis);
    fleet.measureSilences();
    for (let cut = 0; cut < 10; cut++) {
      proxy.cut(1_500);
      await sleep(2_000);
    }
    await flow.stop();
    const silences = fleet.silences();
    const total = await assertExact('cuts every 2 s', fleet, flow.acked, 60_000);
    const recoveries = fleet.members.flatMap((member) => [...member.recoveries.values()].flat());
    const notRecovered = recoveries.filter((recovery) => !recovery.recovered);
    console.log(
      `chaos cuts every 2 s: ${total.delivered} of ${flow.count * fleet.members.length} owed deliveries (100%), ` +
        `${recoveries.length} resubscriptions, ${notRecovered.length} not recovered; ` +
        `longest silence per client: max ${silences.longestMs.toFixed(0)} ms, p50 ${silences.p50Ms.toFixed(0)} ms`,
    );
    assert.deepEqual(notRecovered, [], 'every resubscription recovered what it missed');
    assert.ok(recoveries.length >= fleet.members.length, 'every client was cut and came back');
  });
});
