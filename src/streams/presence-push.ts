import { PresenceEntry, type PresencePush } from '@switchboard/protocol';
import { z } from 'zod';

/** A presence change as hubs send it to each other through the broker (src/presence/tracker.ts). */
export const PresenceChange = z.strictObject({
  join: z.array(PresenceEntry).max(10_000).optional(),
  leave: z.array(PresenceEntry).max(10_000).optional(),
});
export type PresenceChange = z.infer<typeof PresenceChange>;

/** Changes larger than this are dropped unread (10,000 entries of ~100 B). */
const MAX_CHANGE_CHARS = 2 * 1024 * 1024;

/** The `pres` push of a change received from the broker; undefined when it is not one. */
export function presencePush(channel: string, change: string): PresencePush | undefined {
  if (change.length > MAX_CHANGE_CHARS) return undefined;
  let parsed: ReturnType<typeof PresenceChange.safeParse>;
  try {
    parsed = PresenceChange.safeParse(JSON.parse(change));
  } catch {
    return undefined;
  }
  if (!parsed.success) return undefined;
  const push: PresencePush = { t: 'pres', ch: channel };
  if (parsed.data.join?.length) push.join = parsed.data.join;
  if (parsed.data.leave?.length) push.leave = parsed.data.leave;
  return push.join || push.leave ? push : undefined;
}
