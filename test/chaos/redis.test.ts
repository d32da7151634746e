/**
 * Redis failing under load, against real Redis, HAProxy and three hub processes on the default
 * configuration: restarted without persistence (a new epoch), and paused (SIGSTOP) with its
 * connections held open, which only command timeouts reveal.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '@switchboard/protocol';
import { Publisher } from '../../src/publisher.js';
import { type Cluster, startCluster } from '../support/cluster.js';
import { assertExact, channelsOf } from '../support/exact.js';
import { Fleet } from '../support/fleet.js';
import { Flow } from '../support/flow.js';
import { sleep } from '../support/wait.js';

/** `broker.commandTimeoutMs`'s default: the bound on any wait for Redis. */
const COMMAND_TIMEOUT_MS = 2_000;

/** Each hub's /readyz status. */
const readiness = (cluster: Cluster) =>
  Promise.all(cluster.hubs.map((hub) => fetch(`${hub.http}/readyz`).then((response) => response.status)));

/** Polls until every hub's /readyz answers `status`; resolves with how long that took (ms). */
async function untilReadiness(cluster: Cluster, status: number, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (!(await readiness(cluster)).every((answer) => answer === status)) {
    if (performance.now() - started > timeoutMs)
      throw new Error(`/readyz did not answer ${status} within ${timeoutMs} ms`);
    await sleep(100);
  }
  return performance.now() - started;
}

/** Reads of history made to repair gaps, summed over the hub's metrics. */
async function repairReads(http: string): Promise<number> {
  const text = await (await fetch(`${http}/metrics`)).text();
  let sum = 0;
  for (const match of text.matchAll(/^switchboard_broker_reads_total\{[^}]*purpose="repair"[^}]*\} (\d+)/gm))
    sum += Number(match[1]);
  return sum;
}

describe('chaos: Redis restarted and paused under load (three hubs behind HAProxy)', () => {
  let cluster: Cluster;
  let publisher: Publisher;
  const fleets: Fleet[] = [];

  before(async () => {
    cluster = await startCluster({ hubs: 3 });
    publisher = new Publisher({ url: cluster.redis.url });
    await publisher.connect();
  });
  after(async () => {
    for (const fleet of fleets) fleet.close();
    cluster?.redis.process.resume();
    await publisher?.close();
    await cluster?.stop();
  });

  async function fleetOn(prefix: string): Promise<{ names: string[]; fleet: Fleet }> {
    const names = channelsOf(prefix, 10);
    const fleet = await Fleet.connect(cluster.url, 60, (i) => [
      names[i % names.length] as string,
      names[(i + 1) % names.length] as string,
    ]);
    fleets.push(fleet);
    return { names, fleet };
  }

  it('Redis restarted without persistence under 200 msg/s: every publication accepted after the restart is delivered, and each subscription reports the epoch change once', async () => {
    const { names, fleet } = await fleetOn('epoch');
    const flow = Flow.start(names, 200, (channel, seq) => publisher.publish(channel, { seq }));
    await sleep(1_000);
    fleet.measureSilences();
    await cluster.redis.kill9();
    await sleep(500);
    await cluster.redis.start();
    const restarted = flow.mark();
    await sleep(3_000);
    await flow.stop();
    const silences = fleet.silences();
    const accepted = flow.ackedSince(restarted);
    await assertExact('Redis restarted under load (publications accepted after the restart)', fleet, accepted);
    const reports = fleet.members.flatMap((member) => member.channels.map((channel) => member.recoveries.get(channel)));
    const once = reports.filter((r) => r?.length === 1 && !r[0]?.recovered && r[0]?.reason === 'epoch_changed');
    let sinceRestart = 0;
    for (const seqs of accepted.values()) sinceRestart += seqs.length;
    console.log(
      `chaos Redis restarted: ${sinceRestart} publications accepted after the restart, all delivered; ` +
        `${once.length} of ${reports.length} subscriptions reported the epoch change exactly once; ` +
        `longest silence per client: max ${silences.longestMs.toFixed(0)} ms, p50 ${silences.p50Ms.toFixed(0)} ms`,
    );
    assert.ok(sinceRestart > 0);
    assert.equal(once.length, reports.length, JSON.stringify(reports.find((r) => !once.includes(r))));
  });

  it('Redis paused (SIGSTOP) for 20 s: publishes answer within the command timeout with 503 or 108, /readyz is 503 during and 200 after, and delivery resumes with gap repair', async () => {
    const { names, fleet } = await fleetOn('paused');
    const [hub] = cluster.hubs;
    assert.ok(hub);
    const answers: Array<{ at: number; ms: number; status: number; body: string }> = [];
    const flow = Flow.start(names, 200, async (channel, seq) => {
      const at = performance.now();
      const response = await fetch(`${hub.http}/api/publish`, {
        method: 'POST',
        body: JSON.stringify({ channel, data: { seq } }),
      });
      const body = await response.text();
      answers.push({ at, ms: performance.now() - at, status: response.status, body });
      if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${body}`);
    });
    await sleep(1_000);
    const repairsBefore = await repairReads(hub.http);
    fleet.measureSilences();
    const pausedAt = performance.now();
    cluster.redis.process.pause();
    let resumedAt = pausedAt;
    try {
      const notReadyAfterMs = await untilReadiness(cluster, 503, COMMAND_TIMEOUT_MS + 3_000);
      // A client publish on a channel no one here reads: should it reach Redis after all, it changes nothing owed.
      const client = fleet.members[0]?.client;
      assert.ok(client);
      const asked = performance.now();
      await assert.rejects(client.publish('pausedsdk:0', 1), { code: ErrorCode.NOT_AVAILABLE, temporary: true });
      const sdkMs = performance.now() - asked;
      await sleep(20_000 - (performance.now() - pausedAt));
      resumedAt = performance.now();
      cluster.redis.process.resume();
      const readyAfterMs = await untilReadiness(cluster, 200, 10_000);
      await sleep(2_000);
      await flow.stop();
      const silences = fleet.silences();
      await assertExact('Redis paused 20 s', fleet, flow.acked);
      const during = answers.filter((answer) => answer.at >= pausedAt && answer.at < resumedAt);
      const slowest = Math.max(...during.map((answer) => answer.ms));
      const refused = during.filter(
        (answer) => answer.status === 503 && answer.body === '{"error":"broker is not available"}',
      );
      const repairs = (await repairReads(hub.http)) - repairsBefore;
      console.log(
        `chaos Redis paused 20 s: ${during.length} HTTP publishes during the pause, ${refused.length} answered 503 "broker is not available", the slowest after ${slowest.toFixed(0)} ms (bound ${COMMAND_TIMEOUT_MS} ms); ` +
          `a client publish answered 108 after ${sdkMs.toFixed(0)} ms; /readyz 503 on every hub ${notReadyAfterMs.toFixed(0)} ms after SIGSTOP, 200 ${readyAfterMs.toFixed(0)} ms after SIGCONT; ` +
          `${repairs} repair reads on one hub after; longest silence per client: max ${silences.longestMs.toFixed(0)} ms`,
      );
      assert.ok(during.length > 0);
      assert.equal(
        refused.length,
        during.length,
        'every publish during the pause is refused with the documented answer',
      );
      assert.ok(slowest <= COMMAND_TIMEOUT_MS + 500, `the slowest answer took ${slowest.toFixed(0)} ms`);
      assert.ok(sdkMs <= COMMAND_TIMEOUT_MS + 500, `the client publish took ${sdkMs.toFixed(0)} ms`);
      assert.ok(repairs > 0, 'once Redis answers, every channel checks its position');
    } finally {
      cluster.redis.process.resume();
    }
  });
});
