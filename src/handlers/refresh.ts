import type { RefreshRequest, RefreshResult } from '@switchboard/protocol';
import type { Handler } from './types.js';

/**
 * Replaces the connection's token before it expires (src/auth decides); subscriptions the new
 * token no longer allows end with an `unsubd` push (103). Without authentication there is
 * nothing to renew.
 */
export const refresh: Handler<RefreshRequest> = async (session, { token }) => {
  const { node } = session;
  const next = await node.auth.refreshed(session.principal, token);
  if (next !== session.principal) {
    session.become(next);
    await session.access.recheck('no longer granted by the refreshed token');
  }
  const exp = session.principal.expiresAt;
  const result: RefreshResult = exp === undefined ? {} : { exp };
  return result;
};
