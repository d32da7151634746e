import {
  type ConnectRequest,
  type ConnectResult,
  ErrorCode,
  PROTOCOL_VERSION,
  type SubscribeResult,
} from '@switchboard/protocol';
import { AuthError } from '../auth/errors.js';
import type { Principal } from '../auth/principal.js';
import { HubError } from '../errors.js';
import type { Session } from '../session/session.js';
import type { Handler } from './types.js';

/** Sessions whose connect is being authenticated: a second connect meanwhile is refused like one after it. */
const authenticating = new WeakSet<Session>();

/**
 * Authenticates the connection: its token (src/auth), or, with a proxy connect hook, the team's
 * backend (src/proxy), which may also name channels to join at once. A refused connect gets its
 * `err` reply (101, 109, or 103 for a backend's denial) and then the connection is closed (4501,
 * 4004, or the backend's code).
 */
export const connect: Handler<ConnectRequest> = async (session, { token, name, version }) => {
  if (session.isConnected || authenticating.has(session))
    throw new HubError(ErrorCode.ALREADY_CONNECTED, 'already connected');
  authenticating.add(session);
  const { node } = session;
  let principal: Principal;
  let channels: readonly string[] = [];
  try {
    if (node.proxy.decidesConnect) {
      const forwarded = session.socket.forwarded;
      session.socket.forwarded = undefined;
      const admitted = await node.proxy.connect({ connection: session.id, token, name, version, forwarded });
      principal = admitted.principal;
      channels = admitted.channels;
    } else principal = await node.auth.authenticate(token);
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
    node: node.config.name,
    v: PROTOCOL_VERSION,
    ping: node.config.clientPingSeconds,
    maxFrame: node.config.limits.maxFrameBytes,
  };
  if (principal.expiresAt !== undefined) result.exp = principal.expiresAt;
  if (channels.length > 0) result.subs = await joinAll(session, channels);
  return result;
};

/** Joins the channels a backend named, through the session's join path like any `sub`; those the hub cannot join are left out. */
async function joinAll(session: Session, channels: readonly string[]): Promise<NonNullable<ConnectResult['subs']>> {
  const joined = await Promise.all(
    [...new Set(channels)].map(async (ch) => {
      let start: SubscribeResult | undefined;
      try {
        await session.join(ch, undefined, (result) => {
          start = result;
        });
      } catch (error) {
        session.node.log.warn(
          { err: (error as Error).message, channel: ch },
          'could not join a channel the connect hook named',
        );
      }
      return start ? [{ ch, ep: start.ep, off: start.off }] : [];
    }),
  );
  return joined.flat();
}
