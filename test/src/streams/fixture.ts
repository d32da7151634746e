import { encodeData, type Position, type WireFormat } from '@switchboard/protocol';
import type { BrokerEventHandler, Publication } from '../../../src/brokers/broker.js';
import type { ReadPurpose, StreamObserver } from '../../../src/streams/channel-stream.js';
import { Streams, type StreamsOptions } from '../../../src/streams/streams.js';
import { RecordingBroker, TestMember, TopicBus } from '../support.js';

export const history = { size: 50, ttlMs: 60_000 };

/** A memory broker that can lose what it delivers and forget a channel's history, as Redis can. */
export class LossyBroker extends RecordingBroker {
  /** While true, publications are stored but never reach the node (a cut pub/sub connection). */
  dropping = false;

  override async start(handler: BrokerEventHandler): Promise<void> {
    await super.start({
      onPublication: (publication) => {
        if (!this.dropping) handler.onPublication(publication);
      },
      onDeliveryInterrupted: () => handler.onDeliveryInterrupted(),
      onDeliveryResumed: () => handler.onDeliveryResumed(),
      onPresence: (channel, change) => handler.onPresence(channel, change),
    });
  }

  /** Loses the channel's positions and history, as a Redis restart does: its next epoch is new. */
  forget(channel: string): void {
    (this as unknown as { channels: Map<string, unknown> }).channels.delete(channel);
  }
}

/** What the streams told their observer. */
export class Observed implements StreamObserver {
  readonly reads: Array<[ReadPurpose, boolean]> = [];
  readonly repairs: string[] = [];
  readonly recoveries: Array<[boolean, string | undefined]> = [];
  deliveries = 0;
  deltaSavedBytes = 0;

  delivered(subscribers: number): void {
    this.deliveries += subscribers;
  }
  deltaSaved(bytes: number): void {
    this.deltaSavedBytes += bytes;
  }
  read(purpose: ReadPurpose, history: boolean): void {
    this.reads.push([purpose, history]);
  }
  repaired(outcome: string): void {
    this.repairs.push(outcome);
  }
  recovery(recovered: boolean, reason: string | undefined): void {
    this.recoveries.push([recovered, reason]);
  }
  historyReads(purpose: ReadPurpose): number {
    return this.reads.filter(([p, history]) => p === purpose && history).length;
  }
}

/** Joins as a session does, with the member recording the `sub` reply in line with its pushes. */
export function join(streams: Streams, channel: string, member: TestMember, since?: Position) {
  return streams.join(channel, member, since, member.respond);
}

/** Streams over a lossy memory broker, with native topics in miniature. */
export async function streamsFixture(options: Partial<StreamsOptions> = {}) {
  const broker = new LossyBroker();
  const observed = new Observed();
  const streams = new Streams(broker, { maxChannels: 100, maxRecovery: 100, positionCheckMs: 0, ...options }, observed);
  const bus = new TopicBus();
  streams.attach(bus);
  await broker.start(streams);
  const member = (format: WireFormat = 'msgpack') => new TestMember(bus, format);
  const publish = (channel: string, value: unknown) => broker.publish(channel, encodeData(value), history);
  /** Lets queued fan-out and pending repairs run. */
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  return { broker, observed, streams, bus, member, publish, settle };
}

export type Received = Publication;
