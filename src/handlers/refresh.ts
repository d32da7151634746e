import { ErrorCode, type RefreshRequest, type RefreshResult } from '@switchboard/protocol';
import { AuthError } from '../auth/errors.js';
import { HubError } from '../errors.js';
import type { Handler } from './types.js';

/**
 * Replaces the connection's token before it expires (src/auth decides, or the proxy refresh hook,
 * whose denial closes the connection with its code); subscriptions the new
 * token no longer allows end with an `unsubd` push (103). Without authentication there is
 * nothing to renew.
 */
export const refresh: Handler<RefreshRequest> = async (session, { token }) => {
  const { node } = session;
  const next = node.proxy.decidesRefresh
    ? await node.proxy.refresh(session.principal, session.id, token).catch((error: unknown) => {
        // A refresh hook's denial ends the connection with its code, after the err reply.
        if (error instanceof AuthError && error.closeCode !== undefined) {
          const { closeCode, closeReason } = error;
          setImmediate(() => session.close(closeCode, closeReason));
        }
        throw error;
      })
    : await node.auth.refreshed(session.principal, token);
  if (next !== session.principal && !next.anonymous) {
    const facts = { user: next.sub, tokenId: next.tokenId, issuedAt: next.issuedAt };
    if (await node.cluster.users.isRevoked(facts).catch(() => false)) {
      node.auth.refused.refresh += 1;
      throw new HubError(ErrorCode.UNAUTHORIZED, 'token revoked');
    }
  }
  if (next !== session.principal) {
    session.become(next);
    await session.access.recheck('no longer granted by the refreshed token');
  }
  const exp = session.principal.expiresAt;
  const result: RefreshResult = exp === undefined ? {} : { exp };
  return result;
};
