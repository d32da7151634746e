import type { RefreshRequest, RefreshResult } from '@switchboard/protocol';
import type { Handler } from './types.js';

/**
 * Replaces the connection's token before it expires (src/auth); subscriptions the new token no
 * longer allows end with an `unsubd` push. Without authentication there is nothing to renew.
 */
export const refresh: Handler<RefreshRequest> = async (session, { token }) => {
  await session.node.auth.refresh(session, token);
  const exp = session.access.principal.expiresAt;
  const result: RefreshResult = exp === undefined ? {} : { exp };
  return result;
};
