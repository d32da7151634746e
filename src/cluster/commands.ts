import { Channel } from '@switchboard/protocol';
import { z } from 'zod';

/**
 * What one hub asks every hub to do to its own connections (the server API's commands that
 * concern connections, src/api/). Each hub runs a command on the connections it holds and answers
 * with its share; the asking hub adds the shares up (src/cluster/control.ts). Commands travel
 * between hubs through the broker, so they are validated again where they arrive.
 */

const Id = z.string().min(1).max(256);

/** Which connections: every one of `user`, or the connection `client`, or both conditions. */
const Target = { user: Id.optional(), client: Id.optional() };

export const ClusterCommand = z.discriminatedUnion('c', [
  z.strictObject({
    c: z.literal('disconnect'),
    ...Target,
    code: z.number().int().min(4000).max(4999),
    reason: z.string().max(120),
  }),
  /** Joins the connections to `channel` as a server-side subscription (a `subd` push). */
  z.strictObject({ c: z.literal('subscribe'), ...Target, channel: Channel }),
  z.strictObject({
    c: z.literal('unsubscribe'),
    ...Target,
    channel: Channel,
    code: z.number().int(),
    reason: z.string().max(120),
  }),
  /** Sets when the connections' credentials expire (Unix ms), or lifts the expiry (`null`). */
  z.strictObject({ c: z.literal('refresh'), ...Target, expireAt: z.number().int().min(0).nullable() }),
  /** Closes the connections whose token is `tokenId`, or was issued to `user` before `issuedBefore`. */
  z.strictObject({
    c: z.literal('revoke'),
    user: Id.optional(),
    tokenId: Id.optional(),
    issuedBefore: z.number().int().min(0).optional(),
  }),
  /** This hub's channels with local subscribers after `after` in name order, at most `limit`. */
  z.strictObject({
    c: z.literal('channels'),
    pattern: z.string().max(256).optional(),
    after: z.string().max(256).optional(),
    limit: z.number().int().min(1).max(10_000),
  }),
  z.strictObject({ c: z.literal('info') }),
  /**
   * Frames a client POSTed to some hub for its SSE stream (src/transport/sse-routes.ts), for the
   * hub that holds it; each is checked by the session like a WebSocket frame. Answers a count of 1
   * when the stream took them.
   */
  z.strictObject({
    c: z.literal('frames'),
    client: Id,
    key: z.string().max(64),
    frames: z.array(z.unknown()).max(64),
  }),
]);
export type ClusterCommand = z.infer<typeof ClusterCommand>;

/** A hub as `info` describes it. */
export const HubInfo = z.object({
  id: z.string(),
  name: z.string(),
  version: z.string(),
  uptimeSeconds: z.number(),
  connections: z.number().int(),
  subscriptions: z.number().int(),
  channels: z.number().int(),
  broker: z.string(),
  ready: z.boolean(),
});
export type HubInfo = z.infer<typeof HubInfo>;

/** One hub's share of a command's answer. */
export const ClusterAnswer = z.union([
  /** disconnect, subscribe, unsubscribe, refresh, revoke: connections it applied to. */
  z.strictObject({ count: z.number().int().min(0) }),
  z.strictObject({ channels: z.array(z.tuple([z.string(), z.number().int().min(0)])), more: z.boolean() }),
  z.strictObject({ hub: HubInfo }),
]);
export type ClusterAnswer = z.infer<typeof ClusterAnswer>;

/** Messages between hubs on the control bus. */
export const ControlMessage = z.discriminatedUnion('k', [
  z.strictObject({ k: z.literal('ask'), id: z.string().max(64), from: Id, command: ClusterCommand }),
  z.strictObject({
    k: z.literal('answer'),
    id: z.string().max(64),
    from: Id,
    answer: ClusterAnswer.optional(),
    error: z.string().max(500).optional(),
  }),
]);
export type ControlMessage = z.infer<typeof ControlMessage>;
