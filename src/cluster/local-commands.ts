import { CloseCode } from '@switchboard/protocol';
import { globMatches } from '../auth/patterns.js';
import type { Session } from '../session/session.js';
import type { ClusterAnswer, ClusterCommand, HubInfo } from './commands.js';

/** What a hub offers the commands it runs for the cluster. */
export interface LocalHub {
  readonly sessions: ReadonlySet<Session>;
  /** Every channel with local members, and how many. */
  channels(): Iterable<readonly [channel: string, members: number]>;
  info(): HubInfo;
  /** Hands frames to the SSE stream `client` if this hub holds it and `key` is its key. */
  deliverFrames(client: string, key: string, frames: readonly unknown[]): boolean;
}

type Target = { readonly user?: string | undefined; readonly client?: string | undefined };

/** The sessions a command targets: every one of the user, or the one connection, or both conditions. */
function* targeted(sessions: ReadonlySet<Session>, { user, client }: Target): Generator<Session> {
  if (user === undefined && client === undefined) return;
  for (const session of sessions) {
    if (session.isClosed) continue;
    if (user !== undefined && session.principal.sub !== user) continue;
    if (client !== undefined && session.id !== client) continue;
    yield session;
  }
}

/**
 * Runs one cluster command on this hub's connections and answers this hub's share. Commands that
 * act on subscriptions count the connections they applied to once those took effect.
 */
export async function runLocally(hub: LocalHub, command: ClusterCommand): Promise<ClusterAnswer> {
  switch (command.c) {
    case 'disconnect': {
      let count = 0;
      for (const session of [...targeted(hub.sessions, command)]) {
        session.close(command.code, command.reason);
        count += 1;
      }
      return { count };
    }
    case 'subscribe': {
      const joined = await Promise.all(
        [...targeted(hub.sessions, command)].map((session) => session.serverSubscribe(command.channel)),
      );
      return { count: joined.filter(Boolean).length };
    }
    case 'unsubscribe': {
      const left = await Promise.all(
        [...targeted(hub.sessions, command)].map((session) =>
          session.serverUnsubscribe(command.channel, command.code, command.reason),
        ),
      );
      return { count: left.filter(Boolean).length };
    }
    case 'refresh': {
      let count = 0;
      for (const session of targeted(hub.sessions, command)) {
        session.setExpiry(command.expireAt ?? undefined);
        count += 1;
      }
      return { count };
    }
    case 'revoke': {
      let count = 0;
      for (const session of [...hub.sessions]) {
        const { principal } = session;
        const byToken = command.tokenId !== undefined && principal.tokenId === command.tokenId;
        const byUser =
          command.user !== undefined &&
          principal.sub === command.user &&
          (principal.issuedAt ?? 0) < (command.issuedBefore ?? Number.POSITIVE_INFINITY);
        if (session.isClosed || !(byToken || byUser)) continue;
        session.close(CloseCode.TOKEN_EXPIRED, 'token revoked');
        count += 1;
      }
      return { count };
    }
    case 'channels':
      return listChannels(hub, command);
    case 'info':
      return { hub: hub.info() };
    case 'frames':
      return { count: hub.deliverFrames(command.client, command.key, command.frames) ? 1 : 0 };
  }
}

function listChannels(hub: LocalHub, command: Extract<ClusterCommand, { c: 'channels' }>): ClusterAnswer {
  const { pattern, after, limit } = command;
  const found: Array<[string, number]> = [];
  for (const [channel, members] of hub.channels()) {
    if (after !== undefined && channel <= after) continue;
    if (pattern !== undefined && !globMatches(pattern, channel)) continue;
    found.push([channel, members]);
  }
  found.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { channels: found.slice(0, limit), more: found.length > limit };
}
