import type { Logger } from '../log.js';
import { dataFromText } from '../payload.js';
import type { BrokerEventHandler } from './broker.js';
import { PRESENCE_MARK_BYTE, parseEnvelope } from './redis-envelope.js';
import type { RedisKeys } from './redis-keys.js';

/**
 * Hands one pub/sub message to the node: an envelope of positioned publications or a presence
 * change (on `<prefix>#…`), or a raw live-only PUBLISH by a service (on `<prefix><channel>`).
 */
export function deliver(
  keys: RedisKeys,
  handler: BrokerEventHandler,
  log: Logger,
  name: Buffer,
  message: Buffer,
): void {
  const pubsubChannel = name.toString('latin1');
  if (pubsubChannel.startsWith(keys.envelopePrefix)) {
    const channel = keys.channelOfEnvelope(pubsubChannel);
    if (message[0] === PRESENCE_MARK_BYTE) {
      handler.onPresence(channel, message.toString('utf8', 1));
      return;
    }
    const publications = parseEnvelope(channel, message);
    if (!publications) log.warn({ channel: pubsubChannel }, 'dropped a malformed broker envelope');
    else for (const publication of publications) handler.onPublication(publication);
  } else if (pubsubChannel.startsWith(keys.prefix)) {
    handler.onPublication({
      channel: pubsubChannel.slice(keys.prefix.length),
      data: dataFromText(message.toString('utf8')),
    });
  }
}

/**
 * Tells the node that delivery stopped or resumed, once each way, whichever cause (a reconnect, a
 * stall, a moved slot; on one part of the broker or several) changed it. Silent until started:
 * connecting is not an interruption.
 */
export class DeliveryReporter {
  private reported = true;
  private handler: BrokerEventHandler | undefined;

  constructor(private readonly delivering: () => boolean) {}

  /** From now on, changes reach `handler`. */
  start(handler: BrokerEventHandler): void {
    this.reported = this.delivering();
    this.handler = handler;
  }

  stop(): void {
    this.handler = undefined;
  }

  sync(): void {
    const now = this.delivering();
    if (now === this.reported || !this.handler) return;
    this.reported = now;
    if (now) this.handler.onDeliveryResumed();
    else this.handler.onDeliveryInterrupted();
  }
}
