import { ErrorCode, type SubscribeRequest } from '@switchboard/protocol';
import { HubError, limitExceeded, notAvailable } from '../errors.js';
import { REPLIED } from '../session/session.js';
import { START } from '../streams/channel-stream.js';
import { type Lane, PLAIN } from '../streams/lanes.js';
import type { Handler } from './types.js';

const DELTA: Lane = { delta: true };

/**
 * Decides the subscription (src/auth, then the proxy subscribe hook, src/proxy), then joins the channel's stream, which answers where the
 * subscription starts and replays what a resuming client missed (src/streams/channel-stream.ts).
 */
export const subscribe: Handler<SubscribeRequest> = async (session, request) => {
  const { id, ch, token, info, delta, maxRate } = request;
  const since = request.since ?? (request.start ? START : undefined);
  const { node, channels } = session;
  const grant = await node.auth.authorizeSubscribe(session.principal, ch, token, session.hasTokenGrant(ch));
  await node.proxy.subscribe(session.principal, session.id, ch);
  // Closed while a subscription token was verified: nothing may be added for a session that is gone.
  if (session.isClosed) return undefined;
  if (grant) session.access.grantByToken(ch, grant.until);
  const { settings } = node.namespaces.of(ch);
  if (channels.has(ch)) throw new HubError(ErrorCode.ALREADY_SUBSCRIBED, `already subscribed to ${ch}`);
  const limit = node.config.limits.maxSubscriptionsPerConnection;
  if (channels.size >= limit) throw limitExceeded('subscriptions per connection', limit);
  if (!node.broker.isReady()) throw notAvailable('broker');
  try {
    // The stream answers, right before the publications that follow the reply.
    // Deltas where the namespace allows them; elsewhere the reply's missing `delta` says no. A
    // rate cap takes precedence: its pushes are whole.
    const lane = maxRate ? { rate: maxRate } : delta && settings.delta ? DELTA : PLAIN;
    await session.join(ch, since, (reply) => session.reply(id, reply), info, lane);
    return REPLIED;
  } catch (error) {
    if (error instanceof HubError) throw error;
    node.metrics.brokerError(since ? 'history' : 'position');
    throw notAvailable('broker');
  }
};
