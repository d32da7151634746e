import { CloseCode, type ConnectRequest, type ConnectResult, ErrorCode, PROTOCOL_VERSION } from '@switchboard/protocol';
import { AuthError } from '../auth/errors.js';
import type { Principal } from '../auth/principal.js';
import { HubError, notAvailable } from '../errors.js';
import { REPLIED, type Session } from '../session/session.js';
import type { Handler } from './types.js';

/** Sessions whose connect is being authenticated: a second connect meanwhile is refused like one after it. */
const authenticating = new WeakSet<Session>();

/** What the cluster must agree to before a connection is admitted; throws a HubError when refused. */
async function admit(session: Session, principal: Principal): Promise<readonly string[]> {
  const { cluster, userConnections } = session.node;
  const user = principal.sub;
  if (principal.anonymous) return [];
  let revoked: boolean;
  let admitted: boolean;
  let subscriptions: readonly string[];
  try {
    [revoked, admitted, subscriptions] = await Promise.all([
      cluster.users.isRevoked({ user, tokenId: principal.tokenId, issuedAt: principal.issuedAt }),
      user === undefined ? true : userConnections.admit(user, session.id),
      user === undefined ? [] : cluster.users.serverSubscriptions(user),
    ]);
  } catch (error) {
    userConnections.release(session.id);
    session.node.log.warn({ err: (error as Error).message }, 'connect: cluster state not reachable');
    throw notAvailable('cluster state');
  }
  if (revoked) {
    userConnections.release(session.id);
    session.node.auth.refused.connect += 1;
    throw new AuthError(ErrorCode.UNAUTHORIZED, 'token revoked', CloseCode.UNAUTHORIZED, 'token revoked');
  }
  if (!admitted) {
    session.node.limits.hit('connectionsPerUser');
    const limit = session.node.config.limits.maxConnectionsPerUser;
    throw new AuthError(
      ErrorCode.LIMIT_EXCEEDED,
      `connections per user limit of ${limit} reached`,
      CloseCode.CONNECTION_LIMIT,
      'too many connections for this user',
    );
  }
  return subscriptions;
}

/**
 * Authenticates the connection: its token (src/auth), or, with a proxy connect hook, the team's
 * backend (src/proxy), which may also name channels to subscribe server-side. Then admits it in
 * the cluster: a revoked token is refused (101, close 4501), a user over
 * `limits.maxConnectionsPerUser` too (106, close 4005). A backend's denial gets 103 and its close
 * code. The reply lists the server-side subscriptions (the user's and the backend's), each then
 * joined and told with a `subd` push, resuming where the client said it stood (`subs`).
 */
export const connect: Handler<ConnectRequest> = async (session, { id, token, name, version, subs }) => {
  if (session.isConnected || authenticating.has(session))
    throw new HubError(ErrorCode.ALREADY_CONNECTED, 'already connected');
  authenticating.add(session);
  const { node } = session;
  let principal: Principal;
  let serverSubscriptions: readonly string[];
  try {
    let named: readonly string[] = [];
    if (node.proxy.decidesConnect) {
      const forwarded = session.socket.forwarded;
      session.socket.forwarded = undefined;
      const admitted = await node.proxy.connect({ connection: session.id, token, name, version, forwarded });
      principal = admitted.principal;
      named = admitted.channels;
    } else principal = await node.auth.authenticate(token);
    serverSubscriptions = [...new Set([...(await admit(session, principal)), ...named])];
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
  if (session.isClosed) {
    session.node.userConnections.release(session.id);
    return undefined;
  }
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
  if (serverSubscriptions.length > 0) result.subs = [...serverSubscriptions];
  // The reply goes first: each `subd` push follows it.
  session.reply(id, result);
  for (const channel of serverSubscriptions) void session.serverSubscribe(channel, subs?.[channel]);
  return REPLIED;
};
