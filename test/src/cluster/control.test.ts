import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { MemoryBus } from '../../../src/cluster/bus.js';
import type { ClusterAnswer, ClusterCommand } from '../../../src/cluster/commands.js';
import { Control, type RunLocally } from '../../../src/cluster/control.js';
import { RedisBus } from '../../../src/cluster/redis-bus.js';
import { createLogger } from '../../../src/log.js';
import { type RedisService, startRedis } from '../../services/index.js';
import { sleep, waitFor } from '../../support/wait.js';

const log = createLogger('silent');
const DISCONNECT: ClusterCommand = { c: 'disconnect', user: 'alice', code: 4007, reason: 'test' };
const DEADLINE = 1_000;

/** A hub's side of the commands: what it ran, and what it answers. */
class HubSide {
  readonly ran: ClusterCommand[] = [];
  behaviour: 'answer' | 'fail' | 'silent' = 'answer';

  constructor(private readonly connections: number) {}

  readonly run: RunLocally = async (command) => {
    this.ran.push(command);
    if (this.behaviour === 'fail') throw new Error('this hub cannot');
    // Longer than the deadlines the tests of a silent hub give: the asker gives up first.
    if (this.behaviour === 'silent') await sleep(DEADLINE);
    return { count: this.connections } satisfies ClusterAnswer;
  };
}

const counts = (answers: ReadonlyArray<{ hub: string; answer: ClusterAnswer }>) =>
  answers
    .map(({ hub, answer }) => [hub, 'count' in answer ? answer.count : -1] as const)
    .sort(([a], [b]) => a.localeCompare(b));

describe('Control over the embedded MemoryBus (one hub, which hears itself)', () => {
  let control: Control | undefined;
  afterEach(() => control?.close());

  async function start(side: HubSide): Promise<Control> {
    control = new Control(new MemoryBus(), 'solo', side.run, log);
    await control.start();
    return control;
  }

  it('asks the one hub alive and returns its answer, complete', async () => {
    const side = new HubSide(3);
    const solo = await start(side);
    assert.deepEqual(await solo.hubs(), ['solo']);
    const answers = await solo.ask(DISCONNECT, DEADLINE);
    assert.deepEqual(answers, {
      answers: [{ hub: 'solo', answer: { count: 3 } }],
      asked: ['solo'],
      missing: [],
      failed: [],
    });
    assert.deepEqual(side.ran, [DISCONNECT]);
  });

  it('reports a hub whose run failed as failed, without its answer', async () => {
    const side = new HubSide(3);
    side.behaviour = 'fail';
    const answers = await (await start(side)).ask(DISCONNECT, DEADLINE);
    assert.deepEqual(answers.answers, []);
    assert.deepEqual(answers.failed, [{ hub: 'solo', error: 'the command failed on this hub' }]);
    assert.deepEqual(answers.missing, []);
  });

  it('reports a hub that did not answer by the deadline as missing, at the deadline', async () => {
    const side = new HubSide(3);
    side.behaviour = 'silent';
    const solo = await start(side);
    const started = Date.now();
    const answers = await solo.ask(DISCONNECT, 200);
    assert.ok(Date.now() - started < DEADLINE, 'it did not wait for the slow hub');
    assert.deepEqual(answers, { answers: [], asked: ['solo'], missing: ['solo'], failed: [] });
  });

  it('asks nobody, and answers at once, for a hub that is not alive', async () => {
    const side = new HubSide(3);
    const answers = await (await start(side)).ask(DISCONNECT, DEADLINE, 'elsewhere');
    assert.deepEqual(answers, { answers: [], asked: [], missing: [], failed: [] });
    await sleep(20);
    assert.deepEqual(side.ran, []);
  });

  it('ends the questions in flight when it closes, with what they have, and asks nothing after', async () => {
    const side = new HubSide(3);
    side.behaviour = 'silent';
    const solo = await start(side);
    const pending = solo.ask(DISCONNECT, 60_000);
    await waitFor(() => side.ran.length === 1, 'the question to arrive');
    await solo.close();
    assert.deepEqual((await pending).missing, ['solo']);
    assert.deepEqual(await solo.ask(DISCONNECT, DEADLINE), { answers: [], asked: ['solo'], missing: [], failed: [] });
  });
});

describe('Control over the Redis bus: three hubs on one real redis-server', () => {
  let redis: RedisService;
  const opened: Redis[] = [];
  const connection = () => {
    const made = new Redis(redis.url);
    opened.push(made);
    return made;
  };
  let prefix = 0;
  /** Three hubs on a prefix of their own, so that no test hears another's hubs. */
  async function threeHubs(): Promise<{ controls: Control[]; sides: HubSide[]; prefix: string }> {
    const bus = `ctl${++prefix}:`;
    const sides = [new HubSide(1), new HubSide(2), new HubSide(4)];
    const controls = sides.map(
      (side, i) => new Control(new RedisBus(connection(), connection(), bus, log), `hub${i}`, side.run, log),
    );
    await Promise.all(controls.map((control) => control.start()));
    running.push(...controls);
    return { controls, sides, prefix: bus };
  }
  const running: Control[] = [];

  before(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((control) => control.close()));
  });
  after(async () => {
    for (const made of opened) made.disconnect();
    await redis.destroy();
  });

  it('every hub alive answers a broadcast once, and the answer is complete', async () => {
    const { controls, sides } = await threeHubs();
    const asker = controls[1] as Control;
    assert.deepEqual([...(await asker.hubs())].sort(), ['hub0', 'hub1', 'hub2']);
    const answers = await asker.ask(DISCONNECT, DEADLINE);
    assert.deepEqual(counts(answers.answers), [
      ['hub0', 1],
      ['hub1', 2],
      ['hub2', 4],
    ]);
    assert.deepEqual([...answers.asked].sort(), ['hub0', 'hub1', 'hub2']);
    assert.deepEqual(answers.missing, []);
    assert.deepEqual(answers.failed, []);
    for (const side of sides) assert.deepEqual(side.ran, [DISCONNECT]);
  });

  it('reports the hub that did not answer before the deadline as missing, with the others’ answers', async () => {
    const { controls, sides } = await threeHubs();
    (sides[2] as HubSide).behaviour = 'silent';
    const started = Date.now();
    const answers = await (controls[0] as Control).ask(DISCONNECT, 300);
    assert.ok(Date.now() - started < DEADLINE);
    assert.deepEqual(counts(answers.answers), [
      ['hub0', 1],
      ['hub1', 2],
    ]);
    assert.deepEqual(answers.missing, ['hub2']);
  });

  it('reports the hub whose run failed as failed, with the others’ answers', async () => {
    const { controls, sides } = await threeHubs();
    (sides[1] as HubSide).behaviour = 'fail';
    const answers = await (controls[0] as Control).ask(DISCONNECT, DEADLINE);
    assert.deepEqual(counts(answers.answers), [
      ['hub0', 1],
      ['hub2', 4],
    ]);
    assert.deepEqual(answers.failed, [{ hub: 'hub1', error: 'the command failed on this hub' }]);
    assert.deepEqual(answers.missing, []);
  });

  it('counts a hub once when a question reaches it twice (its second answer is ignored)', async () => {
    const { controls, sides, prefix: bus } = await threeHubs();
    // A question delivered twice: the same ask, published again on the broadcast channel.
    const listener = connection();
    const asks: string[] = [];
    listener.on('message', (_channel: string, message: string) => asks.push(message));
    await listener.subscribe(`${bus}!ctl`);
    (sides[0] as HubSide).behaviour = 'silent';
    const pending = (controls[1] as Control).ask(DISCONNECT, 500);
    await waitFor(() => asks.length === 1 && (sides[2] as HubSide).ran.length === 1, 'the question');
    await connection().publish(`${bus}!ctl`, asks[0] as string);
    await waitFor(() => (sides[2] as HubSide).ran.length === 2, 'the question again');
    const answers = await pending;
    assert.deepEqual(counts(answers.answers), [
      ['hub1', 2],
      ['hub2', 4],
    ]);
    assert.deepEqual(answers.missing, ['hub0']);
  });

  it('sends a command about one connection to the hub that holds it, and to no other', async () => {
    const { controls, sides } = await threeHubs();
    const answers = await (controls[0] as Control).ask(DISCONNECT, DEADLINE, 'hub2');
    assert.deepEqual(counts(answers.answers), [['hub2', 4]]);
    assert.deepEqual(answers.asked, ['hub2']);
    await sleep(50);
    assert.deepEqual(
      sides.map((side) => side.ran.length),
      [0, 0, 1],
    );
  });

  it('drops control messages that are not JSON, malformed or oversized, and keeps answering', async () => {
    const { controls, sides, prefix: bus } = await threeHubs();
    const publisher = connection();
    for (const junk of [
      'not json',
      JSON.stringify({ k: 'ask', id: 'x', from: 'hub9', command: { c: 'drop-tables' } }),
      JSON.stringify({ k: 'ask', id: 'x', from: 'hub9', command: DISCONNECT, pad: 'x'.repeat(4 * 1024 * 1024) }),
    ])
      await publisher.publish(`${bus}!ctl`, junk);
    const answers = await (controls[0] as Control).ask(DISCONNECT, DEADLINE);
    assert.equal(answers.answers.length, 3);
    for (const side of sides) assert.deepEqual(side.ran, [DISCONNECT], 'nothing else ran');
  });

  it('a hub that closed is no longer asked', async () => {
    const { controls } = await threeHubs();
    await (controls[2] as Control).close();
    assert.deepEqual([...(await (controls[0] as Control).hubs())].sort(), ['hub0', 'hub1']);
    const answers = await (controls[0] as Control).ask(DISCONNECT, DEADLINE);
    assert.deepEqual(answers.missing, []);
    assert.equal(answers.answers.length, 2);
  });
});
