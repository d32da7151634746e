import { z } from 'zod';

/** Presence of one namespace's channels (off unless enabled). */
export const NamespacePresence = z.strictObject({
  /** Keep who is subscribed to each channel: `presence` and `presence_stats` answer it. */
  enabled: z.boolean().default(false),
  /** Push joins and leaves to subscribers (`pres` pushes), coalesced per channel per hub. */
  joinLeave: z.boolean().default(false),
  /**
   * Show what the client gives in its `sub` (`info`), instead of its token's `info` claim. Nobody
   * vouches for it: for anonymous demos and rooms where a display name is all there is.
   */
  clientInfo: z.boolean().default(false),
});
export type NamespacePresence = z.infer<typeof NamespacePresence>;

/** How presence is kept, for every namespace that has it. */
export const PresenceSettings = z.strictObject({
  /**
   * Seconds an entry lives unless its hub refreshes it (every third of this). A hub that dies
   * leaves its subscribers in presence for at most this long, and their leaves are pushed within
   * a third more.
   */
  ttlSeconds: z.number().int().min(3).max(3600).default(30),
  /** Each hub pushes at most one `pres` per channel per this many milliseconds. */
  pushIntervalMs: z.number().int().min(100).max(60_000).default(1_000),
  /** Joins and leaves one push carries at most; the rest follow in the next interval. */
  maxChangesPerPush: z.number().int().min(1).max(10_000).default(200),
  /** Entries a `presence` answer lists at most (`more: true` beyond). */
  maxListed: z.number().int().min(1).max(100_000).default(10_000),
});
export type PresenceSettings = z.infer<typeof PresenceSettings>;
