import type { RefreshRequest, RefreshResult } from '@switchboard/protocol';
import type { Handler } from './types.js';

/**
 * Replaces the connection's token before it expires (src/auth decides); subscriptions the new
 * token no longer allows end with an `unsubd` push (103). Without authentication there is
 * nothing to renew.
 */
export const refresh: Handler<RefreshRequest> = async (session, { token }) => {
  const { access, node } = session;
  const next = await node.auth.refreshed(access.principal, token);
  if (next !== access.principal) {
    access.become(next);
    await access.recheck('no longer granted by the refreshed token');
  }
  const exp = access.principal.expiresAt;
  const result: RefreshResult = exp === undefined ? {} : { exp };
  return result;
};
