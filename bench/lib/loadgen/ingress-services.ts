/**
 * Publishing as a backend service does: with the project's publisher helper on the hub's Redis
 * (positions and history in Redis exactly as a hub publishes), or with a kafkajs producer to a
 * topic the hub ingests (key = channel, value = the payload as a JSON string, acks from all
 * in-sync replicas as examples/kafka-producer.ts does).
 */
import type { Producer } from 'kafkajs';
import type { Publisher } from 'switchboard/publisher';
import { monoMicros } from '../clock.js';
import { payloadText } from '../payload.js';
import { countError } from './counters.js';
import type { Emitter, Rotation } from './emitter.js';

/** Publications awaiting Redis at most: bounds the publisher's memory when Redis lags. */
const MAX_REDIS_OUTSTANDING = 2000;
/** `publishMany` calls awaiting Redis at most, each carrying up to a batch of the publish loop (512). */
const MAX_MANY_OUTSTANDING = 4;
/** Produce requests in flight at most, each carrying up to a batch of the publish loop (512). */
const MAX_KAFKA_OUTSTANDING = 4;

let redisPublisher: Publisher | undefined;
let producer: Producer | undefined;

export async function closeServicePublishers(): Promise<void> {
  await redisPublisher?.close().catch(() => undefined);
  redisPublisher = undefined;
  await producer?.disconnect().catch(() => undefined);
  producer = undefined;
}

/**
 * Counts settled promises: acks and errors of what was handed over. A promise carrying `n`
 * publications may resolve with how many of them failed (a number); anything else means none.
 */
function tracker() {
  const t = {
    outstanding: 0,
    acks: 0,
    errors: 0,
    wake: undefined as (() => void) | undefined,
    track(promise: Promise<unknown>, n: number, what: string) {
      t.outstanding += 1;
      promise.then(
        (value) => {
          const failed = typeof value === 'number' ? value : 0;
          t.outstanding -= 1;
          t.acks += n - failed;
          t.errors += failed;
          if (failed > 0) countError(`${what}: items answered with an error`);
          t.wake?.();
        },
        (error: unknown) => {
          t.outstanding -= 1;
          t.errors += n;
          countError(`${what}: ${error instanceof Error ? error.message.slice(0, 60) : String(error)}`);
          t.wake?.();
        },
      );
    },
  };
  return t;
}

type Tracker = ReturnType<typeof tracker>;

function trackedEmitter(t: Tracker, capacity: () => number, emit: (count: number) => void): Emitter {
  return {
    get acks() {
      return t.acks;
    },
    get errors() {
      return t.errors;
    },
    capacity,
    emit,
    onFree: (wake) => {
      t.wake = wake;
    },
  };
}

async function connectedPublisher(url: string): Promise<Publisher> {
  if (!redisPublisher) {
    const { Publisher } = await import('switchboard/publisher');
    redisPublisher = new Publisher({ url });
    await redisPublisher.connect();
  }
  return redisPublisher;
}

export async function redisEmitter(url: string, rotation: Rotation): Promise<Emitter> {
  const publisher = await connectedPublisher(url);
  const t = tracker();
  return trackedEmitter(
    t,
    () => Math.max(0, MAX_REDIS_OUTSTANDING - t.outstanding),
    (count) => {
      const now = monoMicros();
      for (let k = 0; k < count; k++) {
        const i = rotation.take();
        t.track(publisher.publish(rotation.name(i), payloadText(now, rotation.seq(i))), 1, 'redis publish');
      }
    },
  );
}

/** `publishMany` where the helper has it (the runner checks before asking for this path). */
type ManyPublisher = Publisher & {
  publishMany(items: { channel: string; data: unknown }[]): Promise<readonly unknown[]>;
};

const hasMany = (p: Publisher): p is ManyPublisher => typeof (p as Partial<ManyPublisher>).publishMany === 'function';

/** How many items of one call were answered `{error}`. */
async function manyCall(publisher: ManyPublisher, items: { channel: string; data: unknown }[]): Promise<number> {
  const results = await publisher.publishMany(items);
  return results.filter((r) => typeof r === 'object' && r !== null && 'error' in r).length;
}

/**
 * A path taking many publications per call, at most `maxOutstanding` calls awaiting an answer:
 * `item` makes one publication from its channel and payload, `send` hands a call's items over.
 */
function batchEmitter<T>(
  rotation: Rotation,
  maxOutstanding: number,
  what: string,
  item: (channel: string, payload: string) => T,
  send: (items: T[]) => Promise<unknown>,
): Emitter {
  const t = tracker();
  return trackedEmitter(
    t,
    () => (t.outstanding < maxOutstanding ? Number.POSITIVE_INFINITY : 0),
    (count) => {
      if (count <= 0) return;
      const now = monoMicros();
      const items = Array.from({ length: count }, () => {
        const i = rotation.take();
        return item(rotation.name(i), payloadText(now, rotation.seq(i)));
      });
      t.track(send(items), count, what);
    },
  );
}

export async function redisManyEmitter(url: string, rotation: Rotation): Promise<Emitter> {
  const publisher = await connectedPublisher(url);
  if (!hasMany(publisher)) throw new Error('this build of the publisher helper has no publishMany');
  return batchEmitter(
    rotation,
    MAX_MANY_OUTSTANDING,
    'redis publishMany',
    (channel, data) => ({ channel, data }),
    (items) => manyCall(publisher, items),
  );
}

export async function kafkaEmitter(brokers: string[], topic: string, rotation: Rotation): Promise<Emitter> {
  if (!producer) {
    const { Kafka, logLevel, Partitioners } = await import('kafkajs');
    producer = new Kafka({ clientId: 'switchboard-bench', brokers, logLevel: logLevel.NOTHING }).producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
  }
  const kafka = producer;
  return batchEmitter(
    rotation,
    MAX_KAFKA_OUTSTANDING,
    'kafka produce',
    (key, payload) => ({ key, value: JSON.stringify(payload) }),
    (messages) => kafka.send({ topic, acks: -1, messages }),
  );
}
