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

/** Counts settled promises: acks and errors of what was handed over. */
function tracker() {
  const t = {
    outstanding: 0,
    acks: 0,
    errors: 0,
    track(promise: Promise<unknown>, n: number, what: string) {
      t.outstanding += 1;
      promise.then(
        () => {
          t.outstanding -= 1;
          t.acks += n;
        },
        (error: unknown) => {
          t.outstanding -= 1;
          t.errors += n;
          countError(`${what}: ${error instanceof Error ? error.message.slice(0, 60) : String(error)}`);
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
  };
}

export async function redisEmitter(url: string, rotation: Rotation): Promise<Emitter> {
  if (!redisPublisher) {
    const { Publisher } = await import('switchboard/publisher');
    redisPublisher = new Publisher({ url });
    await redisPublisher.connect();
  }
  const publisher = redisPublisher;
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
  const t = tracker();
  return trackedEmitter(
    t,
    () => (t.outstanding < MAX_KAFKA_OUTSTANDING ? Number.POSITIVE_INFINITY : 0),
    (count) => {
      if (count <= 0) return;
      const now = monoMicros();
      const messages = Array.from({ length: count }, () => {
        const i = rotation.take();
        return { key: rotation.name(i), value: JSON.stringify(payloadText(now, rotation.seq(i))) };
      });
      t.track(kafka.send({ topic, acks: -1, messages }), count, 'kafka produce');
    },
  );
}
