import { ErrorCode, type Position, type SubscribeRequest, type SubscribeResult } from '@switchboard/protocol';
import type { PositionedPublication } from '../brokers/broker.js';
import { HubError, limitExceeded, notAvailable } from '../errors.js';
import { topicOf } from '../hub.js';
import type { Session } from '../session.js';
import type { Handler } from './types.js';

export const subscribe: Handler<SubscribeRequest> = async (session, { ch, since, token }) => {
  await session.node.auth.authorizeSubscribe(session, ch, token);
  // Closed while a subscription token was verified: nothing may be added for a session that is gone.
  if (session.isClosed) return undefined;
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
  const recorder = node.hub.record(ch);
  try {
    const start = await startingPoint(session, ch, since);
    if (session.isClosed) return undefined;
    // Synchronous from here to the reply: no publication can slip in between the replay, the
    // ones recorded while history was read, and live delivery through the topic.
    for (const publication of start.replay) session.sendPublication(publication);
    for (const publication of recorder.publications) {
      if (isAfter(publication.position, start.top)) session.sendPublication(publication);
    }
    // Frames still queued for the topic were sent above or precede `top`: out before joining.
    node.hub.flush();
    socket.subscribe(topicOf(socket.format, ch));
    const result: SubscribeResult = { ep: start.top.ep, off: start.top.off };
    if (since) {
      result.rec = start.recovered;
      node.metrics.recovery(start.recovered, start.reason);
    }
    if (start.reason) result.why = start.reason;
    return result;
  } catch (error) {
    if (channels.delete(ch)) node.hub.remove(ch, socket.format);
    if (error instanceof HubError) throw error;
    node.metrics.brokerError(since ? 'history' : 'position');
    throw notAvailable('broker');
  } finally {
    recorder.release();
  }
};

interface StartingPoint {
  /** The channel's position as read: the reply's position. */
  readonly top: Position;
  /** Publications after `since` up to `top`, when recovered. */
  readonly replay: readonly PositionedPublication[];
  readonly recovered: boolean;
  readonly reason?: string;
}

/** Where a subscription starts: right after `since` when history still holds it, else at the top. */
async function startingPoint(session: Session, channel: string, since: Position | undefined): Promise<StartingPoint> {
  const { broker, config } = session.node;
  if (!since) return { top: await broker.position(channel), replay: [], recovered: false };
  const history = await broker.history(channel, { since, limit: config.limits.maxRecoveryPublications });
  if (history.recoverable) return { top: history.top, replay: history.publications, recovered: true };
  return { top: history.top, replay: [], recovered: false, reason: history.reason };
}

/** Whether a recorded publication is newer than `top`; live-only ones (no position) always count. */
function isAfter(position: Position | undefined, top: Position): boolean {
  return position === undefined || position.ep !== top.ep || position.off > top.off;
}
