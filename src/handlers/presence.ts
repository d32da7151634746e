import {
  ErrorCode,
  type PresenceRequest,
  type PresenceResult,
  type PresenceStatsRequest,
  type PresenceStatsResult,
} from '@switchboard/protocol';
import { HubError, notAvailable } from '../errors.js';
import type { Session } from '../session/session.js';
import type { Handler } from './types.js';

/** A connection may ask about the presence of a channel it holds, in a namespace that keeps it. */
function checkAsk(session: Session, channel: string): void {
  if (!session.node.namespaces.of(channel).settings.presence.enabled)
    throw new HubError(ErrorCode.BAD_REQUEST, `presence is not enabled for ${channel}`);
  if (!session.channels.has(channel))
    throw new HubError(ErrorCode.PERMISSION_DENIED, `subscribe to ${channel} to see its presence`);
}

/** Who is subscribed to the channel, across every hub (at most `presence.maxListed`). */
export const presence: Handler<PresenceRequest> = async (session, { ch }) => {
  checkAsk(session, ch);
  const { node } = session;
  try {
    const { entries, more } = await node.presence.list(ch, node.config.presence.maxListed);
    const result: PresenceResult = { who: entries };
    if (more) result.more = true;
    return result;
  } catch {
    throw notAvailable('presence');
  }
};

/** How many connections and users are subscribed to the channel, across every hub. */
export const presenceStats: Handler<PresenceStatsRequest> = async (session, { ch }) => {
  checkAsk(session, ch);
  try {
    const stats: PresenceStatsResult = await session.node.presence.stats(ch);
    return stats;
  } catch {
    throw notAvailable('presence');
  }
};
