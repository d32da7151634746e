import { CloseCode, decodeData, ErrorCode, encodeData } from '@switchboard/protocol';
import type { z } from 'zod';
import type { Broker } from '../brokers/broker.js';
import type { ClusterCommand } from '../cluster/commands.js';
import type { Answers, Control } from '../cluster/control.js';
import type { ClusterState } from '../cluster/index.js';
import type { Config } from '../config.js';
import { HubError } from '../errors.js';
import type { Namespaces } from '../namespaces.js';
import type { PresenceTracker } from '../presence/tracker.js';
import { SpanKind, traced } from '../tracing.js';
import * as S from './schemas.js';

/** What the server API's methods use of the hub that answers them. */
export interface ApiContext {
  readonly config: Config;
  readonly broker: Broker;
  readonly namespaces: Namespaces;
  readonly cluster: ClusterState;
  readonly presence: PresenceTracker;
  readonly control: Control;
  /** Counts the hubs a command reached, for the metrics. */
  readonly answered: (answers: Answers) => void;
  /** Subscribers of `channel` on this hub. */
  readonly localMembers: (channel: string) => number;
}

/** A refusal with its HTTP status: `400 Bad Request`, `503 Service Unavailable`… */
export class ApiError extends Error {
  constructor(
    readonly status: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The W3C trace context of the HTTP request, read before any await. */
export interface CallContext {
  readonly carrier: { readonly traceparent: string | undefined; readonly tracestate: string | undefined };
}

export interface ApiMethod<Request extends z.ZodType, Response extends z.ZodType> {
  readonly summary: string;
  readonly request: Request;
  readonly response: Response;
  run(api: ApiContext, body: z.output<Request>, call: CallContext): Promise<z.input<Response>>;
}

const method = <Request extends z.ZodType, Response extends z.ZodType>(
  definition: ApiMethod<Request, Response>,
): ApiMethod<Request, Response> => definition;

/** The channel's namespace, or 400 (strict namespaces). */
function namespaceOf(api: ApiContext, channel: string) {
  try {
    return api.namespaces.of(channel);
  } catch (error) {
    if (error instanceof HubError) throw new ApiError('400 Bad Request', error.message);
    throw error;
  }
}

function brokerReady(api: ApiContext): void {
  if (!api.broker.isReady()) throw new ApiError('503 Service Unavailable', 'broker is not available');
}

/** Runs a command on the hubs holding the target: the one in a client id, or every hub. */
async function onConnections(api: ApiContext, command: ClusterCommand & { client?: string | undefined }) {
  // A client id is `<hub id>.<number>`: only that hub can hold it.
  const hub = command.client?.slice(0, command.client.lastIndexOf('.'));
  const answers = await api.control.ask(command, api.config.api.deadlineMs, hub || undefined);
  api.answered(answers);
  let connections = 0;
  for (const { answer } of answers.answers) if ('count' in answer) connections += answer.count;
  return { connections, hubs: summarize(answers) };
}

export function summarize(answers: Answers): S.HubsAnswered {
  return {
    asked: answers.asked.length,
    answered: answers.answers.length,
    missing: [...answers.missing],
    failed: answers.failed.map(({ hub }) => hub),
    complete: answers.missing.length === 0 && answers.failed.length === 0,
  };
}

async function publishOne(api: ApiContext, channel: string, data: unknown, trace: string | undefined) {
  const namespace = namespaceOf(api, channel);
  try {
    const position = await api.broker.publish(channel, encodeData(data), namespace.history, { trace });
    return { channel, epoch: position.ep, offset: position.off };
  } catch {
    throw new ApiError('503 Service Unavailable', 'broker is not available');
  }
}

/** Every method of the server API, by name (`POST /api/<name>`). */
export const METHODS = {
  publish: method({
    summary: 'Publish one payload to a channel; answers its position.',
    request: S.PublishRequest,
    response: S.PublishResponse,
    async run(api, { channel, data }, { carrier }) {
      brokerReady(api);
      const { epoch, offset } = await traced(
        'switchboard.publish http',
        SpanKind.SERVER,
        carrier,
        { 'messaging.destination.name': channel },
        (trace) => publishOne(api, channel, data, trace),
      );
      return { epoch, offset };
    },
  }),
  batch: method({
    summary: 'Publish many payloads, each to its channel, in order; answers each position, or why it failed.',
    request: S.BatchRequest,
    response: S.BatchResponse,
    async run(api, { publications }) {
      brokerReady(api);
      const items = publications.map(({ channel, data }, i) => {
        try {
          return { channel, data, history: api.namespaces.of(channel).history };
        } catch (error) {
          if (error instanceof HubError)
            throw new ApiError('400 Bad Request', `publications.${i}.channel: ${error.message}`);
          throw error;
        }
      });
      // All at once and in order: the broker applies them in that order, one call per channel.
      const results = await Promise.all(
        items.map(({ channel, data, history }) =>
          api.broker.publish(channel, encodeData(data), history).then(
            (position) => ({ epoch: position.ep, offset: position.off }),
            () => ({ error: 'broker is not available' }),
          ),
        ),
      );
      return { results };
    },
  }),
  broadcast: method({
    summary: 'Publish one payload to many channels; answers each position, or why that channel failed.',
    request: S.BroadcastRequest,
    response: S.BroadcastResponse,
    async run(api, { channels, data }) {
      brokerReady(api);
      for (const channel of channels) namespaceOf(api, channel);
      const results = await Promise.all(
        channels.map((channel) =>
          publishOne(api, channel, data, undefined).catch((error: unknown) => ({
            channel,
            error: error instanceof ApiError ? error.message : 'publish failed',
          })),
        ),
      );
      return { results };
    },
  }),
  subscribe: method({
    summary: 'Subscribe every connection of a user (kept for its later connections) or one connection to a channel.',
    request: S.SubscribeRequest,
    response: S.Affected,
    async run(api, { user, client, channel }) {
      namespaceOf(api, channel);
      if (user !== undefined && client === undefined) {
        try {
          await api.cluster.users.addServerSubscription(user, channel);
        } catch (error) {
          if (error instanceof RangeError) throw new ApiError('400 Bad Request', error.message);
          throw new ApiError('503 Service Unavailable', 'cluster state is not available');
        }
      }
      return onConnections(api, { c: 'subscribe', user, client, channel });
    },
  }),
  unsubscribe: method({
    summary: "Unsubscribe a user's connections (and forget the user's server-side subscription) or one connection.",
    request: S.UnsubscribeRequest,
    response: S.Affected,
    async run(api, { user, client, channel }) {
      if (user !== undefined && client === undefined) {
        await api.cluster.users.removeServerSubscription(user, channel).catch(() => {
          throw new ApiError('503 Service Unavailable', 'cluster state is not available');
        });
      }
      const command = { c: 'unsubscribe' as const, user, client, channel };
      return onConnections(api, {
        ...command,
        code: ErrorCode.PERMISSION_DENIED,
        reason: 'unsubscribed by the server',
      });
    },
  }),
  disconnect: method({
    summary: 'Close every connection of a user, or one connection, with a close code.',
    request: S.DisconnectRequest,
    response: S.Affected,
    async run(api, { user, client, code, reason, reconnect }) {
      const closeCode = code ?? (reconnect === false ? CloseCode.SERVER_DISCONNECT_FINAL : CloseCode.SERVER_DISCONNECT);
      if (reconnect !== undefined && reconnect !== closeCode < 4500)
        throw new ApiError(
          '400 Bad Request',
          `code ${closeCode} tells the client to ${closeCode < 4500 ? 'reconnect' : 'stop'}; it contradicts reconnect: ${reconnect}`,
        );
      return onConnections(api, {
        c: 'disconnect',
        user,
        client,
        code: closeCode,
        reason: reason ?? 'disconnected by the server',
      });
    },
  }),
  refresh: method({
    summary: 'Set when connections end unless they refresh their token (null: never).',
    request: S.RefreshRequest,
    response: S.Affected,
    async run(api, { user, client, expireAt }) {
      return onConnections(api, { c: 'refresh', user, client, expireAt });
    },
  }),
  revoke: method({
    summary: "Refuse a token (by `jti`) or a user's tokens issued before a time, and close the connections using them.",
    request: S.RevokeRequest,
    response: S.Affected,
    async run(api, { user, tokenId, issuedBefore, until }) {
      const before = user === undefined ? undefined : (issuedBefore ?? Date.now());
      await api.cluster.users.revoke({ user, tokenId, issuedBefore: before }, until).catch(() => {
        throw new ApiError('503 Service Unavailable', 'cluster state is not available');
      });
      const answer = await onConnections(api, { c: 'revoke', user, tokenId, issuedBefore: before });
      return answer;
    },
  }),
  channels: method({
    summary: 'Channels with subscribers, in name order, with their counts over every hub and on this one.',
    request: S.ChannelsRequest,
    response: S.ChannelsResponse,
    async run(api, { pattern, cursor, limit }) {
      const answers = await api.control.ask(
        { c: 'channels', pattern, after: cursor, limit },
        api.config.api.deadlineMs,
      );
      api.answered(answers);
      const total = new Map<string, number>();
      let more = false;
      for (const { answer } of answers.answers) {
        if (!('channels' in answer)) continue;
        more ||= answer.more;
        for (const [channel, members] of answer.channels) total.set(channel, (total.get(channel) ?? 0) + members);
      }
      const names = [...total.keys()].sort();
      if (names.length > limit) more = true;
      const page = names.slice(0, limit);
      const channels = page.map((channel) => ({
        channel,
        subscribers: total.get(channel) ?? 0,
        local: api.localMembers(channel),
      }));
      const last = page[page.length - 1];
      return { channels, ...(more && last !== undefined ? { next: last } : {}), hubs: summarize(answers) };
    },
  }),
  info: method({
    summary: 'Every hub alive: its connections, subscriptions, channels, uptime and version.',
    request: S.InfoRequest,
    response: S.InfoResponse,
    async run(api) {
      const answers = await api.control.ask({ c: 'info' }, api.config.api.deadlineMs);
      api.answered(answers);
      const hubs = answers.answers.flatMap(({ answer }) => ('hub' in answer ? [answer.hub] : []));
      return { hubs, answered: summarize(answers) };
    },
  }),
  history: method({
    summary: "Read a channel's history after a position, or its latest publications.",
    request: S.HistoryRequest,
    response: S.HistoryResponse,
    async run(api, { channel, since, limit }) {
      namespaceOf(api, channel);
      brokerReady(api);
      try {
        let after = since?.offset ?? 0;
        if (!since) {
          const { top } = await api.broker.read(channel, { after: 0, limit: 0 });
          after = Math.max(0, top.off - limit);
        }
        const { top, publications } = await api.broker.read(channel, { after, limit });
        const sameEpoch = since === undefined || since.epoch === top.ep;
        const first = publications[0]?.position.off;
        const continuous =
          since !== undefined && sameEpoch && (first === undefined ? top.off === after : first === after + 1);
        return {
          epoch: top.ep,
          offset: top.off,
          publications: sameEpoch
            ? publications.map(({ position, data }) => ({ offset: position.off, data: decodeData(data) }))
            : [],
          continuous,
        };
      } catch {
        throw new ApiError('503 Service Unavailable', 'broker is not available');
      }
    },
  }),
  presence: method({
    summary: 'Who is subscribed to a channel with presence, over every hub.',
    request: S.PresenceRequest,
    response: S.PresenceResponse,
    async run(api, { channel }) {
      presenceEnabled(api, channel);
      const { entries, more } = await api.presence.list(channel, api.config.presence.maxListed).catch(() => {
        throw new ApiError('503 Service Unavailable', 'presence is not available');
      });
      const clients = entries.map(({ c, u, i }) => ({
        client: c,
        ...(u !== undefined ? { user: u } : {}),
        ...(i !== undefined ? { info: i } : {}),
      }));
      return more ? { clients, more } : { clients };
    },
  }),
  presence_stats: method({
    summary: 'How many connections and distinct users are subscribed to a channel with presence.',
    request: S.PresenceRequest,
    response: S.PresenceStatsResponse,
    async run(api, { channel }) {
      presenceEnabled(api, channel);
      return api.presence.stats(channel).catch(() => {
        throw new ApiError('503 Service Unavailable', 'presence is not available');
      });
    },
  }),
};

export type MethodName = keyof typeof METHODS;

function presenceEnabled(api: ApiContext, channel: string): void {
  if (!namespaceOf(api, channel).settings.presence.enabled)
    throw new ApiError('400 Bad Request', `presence is not enabled for ${channel}'s namespace`);
}
