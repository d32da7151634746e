import { MemoryBroker } from '../../src/brokers/memory.js';
import type { TopicPublisher } from '../../src/hub.js';

/** A real memory broker that also records the interest calls the hub makes. */
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

/** Records what the hub hands to the transport's native fan-out. */
export class RecordingPublisher implements TopicPublisher {
  readonly published: Array<{ topic: string; message: Uint8Array; isBinary: boolean }> = [];
  publish(topic: string, message: Uint8Array, isBinary: boolean): void {
    this.published.push({ topic, message, isBinary });
  }
}
