import { Channel, encodeData, namespaceOf } from '@switchboard/protocol';
import type { KafkaMessage } from 'kafkajs';
import { dataFromText } from '../payload.js';

export type IngressEvent =
  | { readonly ok: true; readonly channel: string; readonly data: Uint8Array }
  | { readonly ok: false; readonly reason: string };

/**
 * Turns one Kafka message into a publication: the `channel` header, or else the key, names the
 * channel, which must belong to the topic's namespace. The value becomes data as dataFromText
 * says; a missing value is null.
 */
export function ingressEvent(message: KafkaMessage, namespace: string): IngressEvent {
  const header = message.headers?.channel;
  const name = (Array.isArray(header) ? header[0] : header)?.toString() ?? message.key?.toString();
  if (name === undefined) return { ok: false, reason: 'no channel header and no key' };
  const channel = Channel.safeParse(name);
  if (!channel.success) return { ok: false, reason: `invalid channel name ${JSON.stringify(name)}` };
  if (namespaceOf(channel.data) !== namespace) {
    return { ok: false, reason: `channel ${channel.data} is not in namespace ${namespace}` };
  }
  const data = message.value === null ? encodeData(null) : dataFromText(message.value.toString('utf8'));
  return { ok: true, channel: channel.data, data };
}
