import { ErrorCode, type SubscribeRequest, type SubscribeResult } from '@switchboard/protocol';
import { HubError, limitExceeded, notAvailable } from '../errors.js';
import { topicOf } from '../hub.js';
import type { Handler } from './types.js';

export const subscribe: Handler<SubscribeRequest> = async (session, { ch, since }) => {
  const { node, socket, channels } = session;
  node.namespaces.of(ch);
  if (channels.has(ch)) throw new HubError(ErrorCode.ALREADY_SUBSCRIBED, `already subscribed to ${ch}`);
  const limit = node.config.limits.maxSubscriptionsPerConnection;
  if (channels.size >= limit) throw limitExceeded('subscriptions per connection', limit);
  if (!node.broker.isReady()) throw notAvailable('broker');

  // Whoever removes the channel from `channels` also gives its hub subscription back.
  channels.add(ch);
  try {
    await node.hub.add(ch, socket.format);
  } catch (error) {
    if (channels.delete(ch)) node.hub.remove(ch, socket.format);
    throw error instanceof HubError ? error : notAvailable('broker');
  }
  if (session.isClosed) return undefined;
  socket.subscribe(topicOf(socket.format, ch));
  const top = await node.broker.position(ch);
  const result: SubscribeResult = { ep: top.ep, off: top.off };
  if (since) {
    result.rec = false;
    result.why = 'unsupported';
  }
  return result;
};
