import { type ConnectRequest, type ConnectResult, ErrorCode, PROTOCOL_VERSION } from '@switchboard/protocol';
import { AuthError } from '../auth/errors.js';
import type { Principal } from '../auth/principal.js';
import { HubError } from '../errors.js';
import type { Session } from '../session/session.js';
import type { Handler } from './types.js';

/** Sessions whose connect is being authenticated: a second connect meanwhile is refused like one after it. */
const authenticating = new WeakSet<Session>();

/**
 * Authenticates the connection's token (src/auth). A refused token gets its `err` reply (101, or
 * 109 when expired) and then the connection is closed (4501, or 4004 when expired).
 */
export const connect: Handler<ConnectRequest> = async (session, { token }) => {
  if (session.isConnected || authenticating.has(session))
    throw new HubError(ErrorCode.ALREADY_CONNECTED, 'already connected');
  authenticating.add(session);
  let principal: Principal;
  try {
    principal = await session.node.auth.authenticate(token);
  } catch (error) {
    if (error instanceof AuthError && error.closeCode !== undefined) {
      const { closeCode, closeReason } = error;
      // After the err reply, which is sent once this handler's promise settles.
      setImmediate(() => session.close(closeCode, closeReason));
    }
    throw error;
  } finally {
    authenticating.delete(session);
  }
  if (session.isClosed) return undefined;
  session.become(principal);
  session.markConnected();
  const result: ConnectResult = {
    client: session.id,
    node: session.node.config.name,
    v: PROTOCOL_VERSION,
    ping: session.node.config.clientPingSeconds,
    maxFrame: session.node.config.limits.maxFrameBytes,
  };
  if (principal.expiresAt !== undefined) result.exp = principal.expiresAt;
  return result;
};
