import { z } from 'zod';

/**
 * What a call looks like between a hub and a service over Kafka (docs/rpc.md): the record
 * headers of a request, the reply address, and the reply's value. Shared by the hub
 * (src/rpc/) and the service helper (src/service.ts), so both ends read one definition.
 */

/** Record headers of a request; a reply carries `correlation-id` and `hub` back. */
export const Header = {
  CORRELATION: 'correlation-id',
  /** `<topic>:<partition>:<hub id>`: where the reply goes, and which hub waits for it. */
  REPLY_TO: 'reply-to',
  METHOD: 'method',
  USER: 'user',
  CONNECTION: 'connection',
  /** Unix milliseconds after which nobody waits for the reply: a service may skip the call. */
  DEADLINE: 'deadline',
  TRACEPARENT: 'traceparent',
  /** On a reply: the hub id of the reply address, so a hub drops replies meant for another. */
  HUB: 'hub',
} as const;

/** Where a reply goes: the reply topic's partition the waiting hub reads alone, and that hub's id. */
export interface ReplyAddress {
  readonly topic: string;
  readonly partition: number;
  readonly hub: string;
}

const ADDRESS = /^([A-Za-z0-9._-]{1,249}):(\d{1,6}):([A-Za-z0-9_-]{1,64})$/;

export function formatReplyAddress({ topic, partition, hub }: ReplyAddress): string {
  return `${topic}:${partition}:${hub}`;
}

export function parseReplyAddress(text: string): ReplyAddress | undefined {
  const match = ADDRESS.exec(text);
  if (!match) return undefined;
  const [, topic = '', partition = '', hub = ''] = match;
  return { topic, partition: Number(partition), hub };
}

/** An error a service answers with: its own code and a message for the caller. */
export const ServiceFailure = z.strictObject({
  code: z.string().min(1).max(128),
  message: z.string().max(1024),
});
export type ServiceFailure = z.infer<typeof ServiceFailure>;

/**
 * A reply's value (JSON): `{"data": …}`, or `{"error": {"code", "message"}}`. Anything else is
 * dropped and counted by the hub, and the call times out: a reply the hub cannot read is no answer.
 */
export const ReplyEnvelope = z.union([
  z.strictObject({ data: z.unknown() }),
  z.strictObject({ error: ServiceFailure }),
]);
export type ReplyEnvelope = z.infer<typeof ReplyEnvelope>;

/** A request's value (JSON): the call's data, exactly as the client sent it. */
export function requestValue(data: unknown): string {
  return JSON.stringify({ data });
}

/** The data of a request's value; `undefined` when it is not `{"data": …}` JSON. */
export function requestData(value: string): { data: unknown } | undefined {
  try {
    const parsed: unknown = JSON.parse(value);
    const checked = z.strictObject({ data: z.unknown() }).safeParse(parsed);
    return checked.success ? { data: checked.data.data } : undefined;
  } catch {
    return undefined;
  }
}
