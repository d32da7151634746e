import { z } from 'zod';
import { CHANNEL_MAX_LENGTH, isValidChannel } from './channel.js';
import { dataProblem } from './data.js';

/**
 * Protocol v1 frames: the single source of truth for the wire format, shared by hub and SDK.
 * Keys are short because every push carries them; protocol/README.md spells each one out.
 */

/** Request ids are chosen by the client; 0 is reserved for errors about frames without a usable id. */
export const RequestId = z.number().int().min(1).max(0xffffffff);

export const Channel = z.string().max(CHANNEL_MAX_LENGTH).refine(isValidChannel, { message: 'invalid channel name' });

/** A publication's place in its channel: `off` grows by exactly 1 per publication within epoch `ep`. */
export const Position = z.object({
  ep: z.string().min(1).max(64),
  off: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});
export type Position = z.infer<typeof Position>;

/** Payload data is any JSON value within the limits of dataProblem; the hub never interprets it. */
export const Data = z.unknown().superRefine((value, context) => {
  const problem = dataProblem(value);
  if (problem) context.addIssue({ code: 'custom', message: problem, abort: true });
});

const Token = z.string().min(1).max(16_384);

/** Server-side subscriptions a reconnecting client resumes at most (each is one channel). */
export const MAX_RESUMED_SUBSCRIPTIONS = 1_000;

export const ConnectRequest = z.object({
  t: z.literal('connect'),
  id: RequestId,
  token: Token.optional(),
  name: z.string().max(64).optional(),
  version: z.string().max(64).optional(),
  /**
   * Where the client's server-side subscriptions stand (channel → last position seen), so that
   * the ones the hub subscribes it to again resume there (section 3.8).
   */
  subs: z
    .record(Channel, Position)
    .refine((subs) => Object.keys(subs).length <= MAX_RESUMED_SUBSCRIPTIONS, {
      message: `at most ${MAX_RESUMED_SUBSCRIPTIONS} subscriptions`,
    })
    .optional(),
});
export const SubscribeRequest = z.object({
  t: z.literal('sub'),
  id: RequestId,
  ch: Channel,
  since: Position.optional(),
  /** A subscription token: a JWT whose `channel` claim names `ch`, for channels the connection is not granted. */
  token: Token.optional(),
  /** What presence shows of this subscriber, in namespaces whose `presence.clientInfo` allows it. */
  info: Data.optional(),
  /**
   * Asks for delta pushes (`dmsg`, section 3.3): each publication as a fossil delta against the
   * previous one, in namespaces with `delta: true`. The reply's `delta` says whether it was granted.
   */
  delta: z.literal('fossil').optional(),
  /**
   * At most this many publications a second, the latest winning (per key where the namespace
   * names one); each push says how many were left out before it (`skip`). Takes precedence over `delta`.
   */
  maxRate: z.number().int().min(1).max(100).optional(),
  /**
   * Without `since`: replay the channel's history from its first publication in the current
   * epoch (a token stream read whole after a reload), answered like a `since` at offset 0.
   */
  start: z.literal(true).optional(),
});
export const UnsubscribeRequest = z.object({ t: z.literal('unsub'), id: RequestId, ch: Channel });
/**
 * An idempotency key: the same for every retry of one publish, so that a hub (and a service, from
 * the record's header) can tell a retry from a new publication. 1..64 printable ASCII characters.
 */
export const IdempotencyKey = z.string().regex(/^[\x21-\x7e]{1,64}$/, 'key: 1..64 printable ASCII characters');
export const PublishRequest = z.object({
  t: z.literal('pub'),
  id: RequestId,
  ch: Channel,
  d: Data,
  key: IdempotencyKey.optional(),
});
/** A method name: what the hub routes a call by (its longest configured prefix). */
export const Method = z.string().regex(/^[A-Za-z0-9_.:/@=,-]{1,128}$/, 'method: 1..128 channel characters');
/** A call to a service; the hub answers with the service's reply (`RpcResult`) or an error. */
export const RpcRequest = z.object({ t: z.literal('rpc'), id: RequestId, method: Method, d: Data });
export const RefreshRequest = z.object({ t: z.literal('refresh'), id: RequestId, token: Token });
export const PingRequest = z.object({ t: z.literal('ping'), id: RequestId });
/** Who is subscribed to `ch` (a channel with presence that the connection holds). */
export const PresenceRequest = z.object({ t: z.literal('presence'), id: RequestId, ch: Channel });
/** How many connections and users are subscribed to `ch`. */
export const PresenceStatsRequest = z.object({ t: z.literal('presence_stats'), id: RequestId, ch: Channel });

export const ClientFrame = z.discriminatedUnion('t', [
  ConnectRequest,
  SubscribeRequest,
  UnsubscribeRequest,
  PublishRequest,
  RefreshRequest,
  PingRequest,
  PresenceRequest,
  PresenceStatsRequest,
  RpcRequest,
]);
export type ClientFrame = z.infer<typeof ClientFrame>;
export type ConnectRequest = z.infer<typeof ConnectRequest>;
export type SubscribeRequest = z.infer<typeof SubscribeRequest>;
export type UnsubscribeRequest = z.infer<typeof UnsubscribeRequest>;
export type PublishRequest = z.infer<typeof PublishRequest>;
export type RefreshRequest = z.infer<typeof RefreshRequest>;
export type PingRequest = z.infer<typeof PingRequest>;
export type PresenceRequest = z.infer<typeof PresenceRequest>;
export type PresenceStatsRequest = z.infer<typeof PresenceStatsRequest>;
export type RpcRequest = z.infer<typeof RpcRequest>;
export type CommandType = ClientFrame['t'];

/** Results carried in `ok` replies, one schema per command. */
export const ConnectResult = z.object({
  client: z.string(),
  /** The hub instance serving the connection (its configured name), for logs and support. */
  node: z.string().optional(),
  v: z.number().int(),
  /** Seconds between the client's pings when idle; the hub closes sockets silent for longer. */
  ping: z.number().int().positive(),
  /** Largest frame, in bytes, the hub accepts; a client should refuse to send larger ones. */
  maxFrame: z.number().int().positive(),
  /** Unix milliseconds at which the connection's credentials expire, if they do. */
  exp: z.number().int().optional(),
  /** Server-side subscriptions of the connection: each follows the reply as a `subd` push. */
  subs: z.array(z.string()).optional(),
});
export const SubscribeResult = z.object({
  ep: z.string(),
  off: z.number().int().min(0),
  /** Present when the request carried `since`: whether every missed publication follows. */
  rec: z.boolean().optional(),
  /** Why recovery was not possible, when `rec` is false. */
  why: z.string().optional(),
  /** The delta encoding granted (`fossil`): publications of this subscription come as `dmsg` pushes. */
  delta: z.string().optional(),
  /** The rate cap granted: publications of this subscription come at most this many a second. */
  maxRate: z.number().int().optional(),
});
export const PublishResult = z.object({ ep: z.string().optional(), off: z.number().int().optional() });
/** The service's reply to an `rpc`: its data (absent for a reply without data). */
export const RpcResult = z.object({ d: z.unknown().optional() });
export type RpcResult = z.infer<typeof RpcResult>;
/** The refreshed credentials' expiry (Unix ms), when they expire. */
export const RefreshResult = z.object({ exp: z.number().int().optional() });
export const EmptyResult = z.object({});
/** One connection in a channel's presence: its id, its user (absent when anonymous), what it shows. */
export const PresenceEntry = z.object({ c: z.string(), u: z.string().optional(), i: z.unknown().optional() });
/** The connections subscribed to a channel; `more` when the list was cut at the hub's limit. */
export const PresenceResult = z.object({ who: z.array(PresenceEntry), more: z.boolean().optional() });
export const PresenceStatsResult = z.object({ clients: z.number().int().min(0), users: z.number().int().min(0) });
export type PresenceEntry = z.infer<typeof PresenceEntry>;
export type PresenceResult = z.infer<typeof PresenceResult>;
export type PresenceStatsResult = z.infer<typeof PresenceStatsResult>;
export type ConnectResult = z.infer<typeof ConnectResult>;
export type SubscribeResult = z.infer<typeof SubscribeResult>;
export type PublishResult = z.infer<typeof PublishResult>;
export type RefreshResult = z.infer<typeof RefreshResult>;

export const OkReply = z.object({ t: z.literal('ok'), id: RequestId, r: z.unknown().optional() });
export const ErrorReply = z.object({
  t: z.literal('err'),
  id: z.number().int().min(0).max(0xffffffff),
  code: z.number().int(),
  msg: z.string(),
  tmp: z.boolean().optional(),
  /** With 118 (SERVICE_ERROR): the service's own error code, as it gave it. */
  svc: z.string().max(128).optional(),
});
/**
 * A publication pushed to subscribers of `ch`, as decoded. On the wire it is an array (protocol
 * §3.3, the one frame that is not a map, for the bytes every delivery costs): `[ch, off, d]`, or
 * `[ch, d]` for a live-only publication (e.g. a raw Redis PUBLISH by a service), which can be
 * neither deduplicated nor recovered. Its epoch is the subscription's: the one of the last `sub`
 * reply or `lost` push of `ch`.
 */
export const PublicationPush = z.object({
  t: z.literal('msg'),
  ch: z.string(),
  off: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  d: z.unknown(),
  /**
   * On a subscription with `maxRate`: publications the hub left out before this one (conflated),
   * so that its offset may follow the previous push's by more than 1. Sent as a map, not an array.
   */
  skip: z.number().int().min(0).optional(),
});
/**
 * A publication of a subscription that asked for deltas, as decoded: on the wire the array
 * `[ch, off | nil, k, s]` (section 3.3). `k` 0: `s` is the data's JSON text; 1: `s` is a fossil
 * delta of that text against the previous `dmsg` text of `ch`, one character per byte; 2: `s` is
 * the text to hold as that previous one, with no publication. Clients turn each into a `msg`.
 */
export const DeltaPush = z.object({
  t: z.literal('dmsg'),
  ch: z.string(),
  off: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  k: z.number().int().min(0).max(2),
  s: z.string(),
});
/** The hub ended a subscription on its own (e.g. a revoked grant). */
export const UnsubscribedPush = z.object({
  t: z.literal('unsubd'),
  ch: z.string(),
  code: z.number().int(),
  msg: z.string(),
});
/** The hub is going away: reconnect after `after` milliseconds (jittered per client by the hub). */
export const DrainPush = z.object({ t: z.literal('drain'), after: z.number().int().min(0) });
/**
 * Publications of `ch` were lost on their way to this hub and its history no longer holds them
 * (the epoch changed, or they were trimmed): the subscription continues after (`ep`, `off`),
 * not recovered, for the reason `why`. The hub's per-channel stream sends it once to every local
 * subscriber instead of leaving a gap for each to discover.
 */
export const LostPush = z.object({
  t: z.literal('lost'),
  ch: z.string(),
  ep: z.string().min(1).max(64),
  off: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  why: z.string(),
});

/**
 * The hub subscribed the connection to `ch` on its own (a server-side subscription, section
 * 3.8): like a `sub` reply, where the subscription starts and, when the client resumed it, whether
 * what it missed follows. Publications of `ch` follow it.
 */
export const SubscribedPush = z.object({
  t: z.literal('subd'),
  ch: z.string(),
  ep: z.string(),
  off: z.number().int().min(0),
  rec: z.boolean().optional(),
  why: z.string().optional(),
});
/**
 * Connections joined or left `ch`'s presence (namespaces with `presence.joinLeave`). Each hub
 * sends at most one per channel per `presence.pushIntervalMs`, with every change of that
 * interval, a join and leave of the same connection cancelling out (section 3.9).
 */
export const PresencePush = z.object({
  t: z.literal('pres'),
  ch: z.string(),
  join: z.array(PresenceEntry).optional(),
  leave: z.array(PresenceEntry).optional(),
});

export const ServerFrame = z.discriminatedUnion('t', [
  OkReply,
  ErrorReply,
  PublicationPush,
  DeltaPush,
  UnsubscribedPush,
  DrainPush,
  LostPush,
  SubscribedPush,
  PresencePush,
]);
export type ServerFrame = z.infer<typeof ServerFrame>;
export type OkReply = z.infer<typeof OkReply>;
export type ErrorReply = z.infer<typeof ErrorReply>;
export type PublicationPush = z.infer<typeof PublicationPush>;
export type DeltaPush = z.infer<typeof DeltaPush>;
export type UnsubscribedPush = z.infer<typeof UnsubscribedPush>;
export type DrainPush = z.infer<typeof DrainPush>;
export type LostPush = z.infer<typeof LostPush>;
export type SubscribedPush = z.infer<typeof SubscribedPush>;
export type PresencePush = z.infer<typeof PresencePush>;
