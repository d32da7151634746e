import type { UnsubscribeRequest } from '@switchboard/protocol';
import { topicOf } from '../hub.js';
import type { Handler } from './types.js';

/** Idempotent: unsubscribing from a channel one is not subscribed to succeeds. */
export const unsubscribe: Handler<UnsubscribeRequest> = async (session, { ch }) => {
  if (!session.channels.delete(ch)) return undefined;
  session.socket.unsubscribe(topicOf(session.socket.format, ch));
  session.node.hub.remove(ch, session.socket.format);
  return undefined;
};
