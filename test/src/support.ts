import { codecs, fromWire, type ServerFrame, type SubscribeResult, type WireFormat } from '@switchboard/protocol';
import type { BrokerEventHandler, Publication } from '../../src/brokers/broker.js';
import { MemoryBroker } from '../../src/brokers/memory.js';
import type { StreamMember } from '../../src/streams/channel-stream.js';
import type { TopicPublisher } from '../../src/streams/fanout.js';

/** A real memory broker that also records the interest calls the node makes. */
export class RecordingBroker extends MemoryBroker {
  readonly calls: Array<['subscribe' | 'unsubscribe', string[]]> = [];
  failSubscribe = false;

  override async subscribe(channels: readonly string[]): Promise<void> {
    this.calls.push(['subscribe', [...channels]]);
    if (this.failSubscribe) throw new Error('broker down');
    return super.subscribe(channels);
  }

  override async unsubscribe(channels: readonly string[]): Promise<void> {
    this.calls.push(['unsubscribe', [...channels]]);
    return super.unsubscribe(channels);
  }
}

/** A broker event handler that only collects publications. */
export function collector(into: Publication[]): BrokerEventHandler {
  return {
    onPublication: (publication) => into.push(publication),
    onDeliveryInterrupted: () => undefined,
    onDeliveryResumed: () => undefined,
    onPresence: () => undefined,
  };
}

/** A broker event handler that collects publications and names delivery changes in order. */
export function deliveryRecorder(): { handler: BrokerEventHandler; delivered: Publication[]; events: string[] } {
  const delivered: Publication[] = [];
  const events: string[] = [];
  return {
    delivered,
    events,
    handler: {
      ...collector(delivered),
      onDeliveryInterrupted: () => events.push('interrupted'),
      onDeliveryResumed: () => events.push('resumed'),
    },
  };
}

/** Records what is handed to the transport's native fan-out. */
export class RecordingPublisher implements TopicPublisher {
  readonly published: Array<{ topic: string; message: Uint8Array; isBinary: boolean }> = [];
  publish(topic: string, message: Uint8Array, isBinary: boolean): void {
    this.published.push({ topic, message, isBinary });
  }
}

/**
 * Native topics in miniature, as uWS keeps them: members subscribe to topics, and what is
 * published on a topic reaches exactly the members subscribed at that moment.
 */
export class TopicBus implements TopicPublisher {
  private readonly topics = new Map<string, Set<TestMember>>();

  publish(topic: string, message: Uint8Array): void {
    for (const member of this.topics.get(topic) ?? []) member.receive(message);
  }

  join(topic: string, member: TestMember): void {
    let members = this.topics.get(topic);
    if (!members) {
      members = new Set();
      this.topics.set(topic, members);
    }
    members.add(member);
  }

  part(topic: string, member: TestMember): void {
    this.topics.get(topic)?.delete(member);
  }
}

/** A socket as a stream sees it, decoding everything it receives, directly or through a topic. */
export class TestMember implements StreamMember {
  readonly frames: ServerFrame[] = [];
  readonly topics = new Set<string>();

  constructor(
    private readonly bus: TopicBus,
    readonly format: WireFormat = 'msgpack',
  ) {}

  send(frame: Uint8Array): void {
    this.receive(frame);
  }

  subscribe(topic: string): void {
    this.topics.add(topic);
    this.bus.join(topic, this);
  }

  unsubscribe(topic: string): void {
    this.topics.delete(topic);
    this.bus.part(topic, this);
  }

  receive(bytes: Uint8Array): void {
    this.frames.push(fromWire(codecs[this.format].parse(bytes)) as ServerFrame);
  }

  /** What the session would send as the `sub` reply: recorded in line with the pushes. */
  respond = (result: SubscribeResult): void => {
    this.frames.push({ t: 'ok', id: 1, r: result });
  };

  /** Offsets of the publications received on `channel` (undefined for live-only ones). */
  offsets(channel?: string): Array<number | undefined> {
    return this.frames
      .filter((frame) => frame.t === 'msg' && (channel === undefined || frame.ch === channel))
      .map((frame) => (frame.t === 'msg' ? frame.off : undefined));
  }
}
