import type { UnsubscribeRequest } from '@switchboard/protocol';
import type { Handler } from './types.js';

/** Idempotent: unsubscribing from a channel one is not subscribed to succeeds. */
export const unsubscribe: Handler<UnsubscribeRequest> = async (session, { ch }) => {
  session.leave(ch);
  return undefined;
};
