import { Channel, Data } from '@switchboard/protocol';
import { z } from 'zod';
import { HubInfo } from '../cluster/commands.js';

/**
 * Request and response bodies of the server API (`POST /api/<method>`), the source of truth for
 * both validation and the OpenAPI document (`GET /api/openapi.json`, src/api/openapi.ts).
 */

const User = z.string().min(1).max(256).meta({ description: "A user: the `sub` of the user's connection tokens." });
const Client = z
  .string()
  .min(1)
  .max(256)
  .meta({ description: 'One connection: the `client` id its connect reply carried.' });
const Epoch = z.string().min(1).max(64);
const Offset = z.number().int().min(0);

/** Which connections a command is about: every one of `user`, or the connection `client`. */
const Target = z.strictObject({ user: User.optional(), client: Client.optional() });
const needsTarget = <T extends { user?: string | undefined; client?: string | undefined }>(value: T) =>
  value.user !== undefined || value.client !== undefined;
const TARGET_MESSAGE = { message: 'name a user or a client' };

/** How many hubs a command reached: an answer is complete only when every hub alive answered. */
export const HubsAnswered = z
  .object({
    asked: z.number().int().meta({ description: 'Hubs alive when the command was sent.' }),
    answered: z.number().int(),
    missing: z.array(z.string()).meta({ description: 'Hubs that did not answer within `api.deadlineMs`.' }),
    failed: z.array(z.string()).meta({ description: 'Hubs whose run of the command failed.' }),
    complete: z.boolean().meta({ description: 'Whether every hub asked answered: without it, counts are partial.' }),
  })
  .meta({ id: 'HubsAnswered' });
export type HubsAnswered = z.infer<typeof HubsAnswered>;

export const Affected = z.object({
  connections: z
    .number()
    .int()
    .meta({ description: 'Connections the command applied to, over the hubs that answered.' }),
  hubs: HubsAnswered,
});

export const PublishRequest = z.strictObject({ channel: Channel, data: Data });
export const PublishResponse = z.object({ epoch: Epoch, offset: Offset });

export const BroadcastRequest = z.strictObject({ channels: z.array(Channel).min(1).max(1_000), data: Data });
export const BroadcastResponse = z.object({
  results: z.array(
    z.union([
      z.object({ channel: z.string(), epoch: Epoch, offset: Offset }),
      z.object({ channel: z.string(), error: z.string() }),
    ]),
  ),
});

/** Publications one `batch` call takes at most. */
export const MAX_BATCH = 1_000;

export const BatchRequest = z.strictObject({
  publications: z
    .array(z.strictObject({ channel: Channel, data: Data }))
    .min(1)
    .max(MAX_BATCH)
    .meta({
      description:
        'Published in this order: publications of one channel get consecutive positions in it when nobody else publishes there meanwhile.',
    }),
});
export const BatchResponse = z.object({
  results: z
    .array(
      z.union([
        z.object({ epoch: Epoch, offset: Offset }),
        z.object({ error: z.string().meta({ description: 'Why this publication failed; the others stand.' }) }),
      ]),
    )
    .meta({ description: 'One per publication, in the order of the request.' }),
});

export const SubscribeRequest = Target.extend({ channel: Channel })
  .refine(needsTarget, TARGET_MESSAGE)
  .meta({
    description:
      'Subscribes every connection of `user` (kept for the user: its later connections are subscribed too, until ' +
      '`unsubscribe`), or only the connection `client`.',
  });
export const UnsubscribeRequest = Target.extend({ channel: Channel }).refine(needsTarget, TARGET_MESSAGE);

export const DisconnectRequest = Target.extend({
  code: z.number().int().min(4000).max(4999).optional().meta({
    description:
      'Close code: 4000–4499 tell the client to reconnect, 4500–4999 to stop. Default 4007, or 4502 with `reconnect: false`.',
  }),
  reason: z.string().max(120).optional(),
  reconnect: z.boolean().optional().meta({ description: 'Whether the client should reconnect (default true).' }),
}).refine(needsTarget, TARGET_MESSAGE);

export const RefreshRequest = Target.extend({
  expireAt: z
    .number()
    .int()
    .min(0)
    .nullable()
    .meta({ description: 'Unix ms at which the connections end (4004) unless they refresh; null: never.' }),
}).refine(needsTarget, TARGET_MESSAGE);

export const RevokeRequest = z
  .strictObject({
    user: User.optional(),
    tokenId: z.string().min(1).max(256).optional().meta({ description: "A token's `jti`." }),
    issuedBefore: z
      .number()
      .int()
      .min(0)
      .optional()
      .meta({ description: 'With `user`: tokens whose `iat` is before this Unix ms (default: now) are revoked.' }),
    until: z
      .number()
      .int()
      .min(0)
      .meta({ description: 'Unix ms until which the revoked tokens are refused (use their expiry).' }),
  })
  .refine((value) => value.user !== undefined || value.tokenId !== undefined, { message: 'name a user or a tokenId' });

export const ChannelsRequest = z.strictObject({
  pattern: z.string().max(256).optional().meta({ description: '`*` matches any run of characters.' }),
  cursor: z.string().max(256).optional().meta({ description: 'The `next` of the previous page.' }),
  limit: z.number().int().min(1).max(1_000).default(100),
});
export const ChannelsResponse = z.object({
  channels: z.array(
    z.object({
      channel: z.string(),
      subscribers: z.number().int().meta({ description: 'Over every hub that answered.' }),
      local: z.number().int().meta({ description: 'On the hub that answered this call.' }),
    }),
  ),
  next: z.string().optional().meta({ description: 'Present when there are more: pass it as `cursor`.' }),
  hubs: HubsAnswered,
});

export const InfoRequest = z.strictObject({});
export const InfoResponse = z.object({ hubs: z.array(HubInfo), answered: HubsAnswered });

export const HistoryRequest = z.strictObject({
  channel: Channel,
  since: z
    .strictObject({ epoch: Epoch, offset: Offset })
    .optional()
    .meta({ description: 'Publications after this position; without it, the latest `limit`.' }),
  limit: z.number().int().min(1).max(1_000).default(100),
});
export const HistoryResponse = z.object({
  epoch: Epoch,
  offset: Offset.meta({ description: "The channel's latest offset." }),
  publications: z.array(z.object({ offset: Offset, data: z.unknown() })),
  continuous: z.boolean().meta({
    description:
      'With `since`: whether the publications follow it without a gap (false when the epoch changed or history was trimmed).',
  }),
});

export const PresenceRequest = z.strictObject({ channel: Channel });
export const PresenceResponse = z.object({
  clients: z.array(z.object({ client: z.string(), user: z.string().optional(), info: z.unknown().optional() })),
  more: z.boolean().optional(),
});
export const PresenceStatsResponse = z.object({ clients: z.number().int(), users: z.number().int() });
