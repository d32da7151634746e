import { z } from 'zod';

/**
 * Configuration of proxy hooks (docs/proxy.md): the hub asks an HTTP backend of the team's own
 * to decide a connect, refresh, subscribe or publish, or to answer an rpc. src/config.ts merges
 * these keys into `proxy`, beside the trusted proxies' settings.
 */

const HttpEndpoint = z
  .string()
  .url()
  .refine((url) => ['http:', 'https:'].includes(new URL(url).protocol), { message: 'an http:// or https:// URL' });

export const HookSettings = z.strictObject({
  url: HttpEndpoint,
  /** Milliseconds the backend has to answer; then the client gets 119 (BACKEND_UNAVAILABLE). */
  timeoutMs: z.number().int().min(50).max(60_000).default(3_000),
  /** Largest answer body read; a larger one is an invalid answer (119). */
  maxResponseBytes: z
    .number()
    .int()
    .min(256)
    .max(1024 * 1024)
    .default(64 * 1024),
});
export type HookSettings = z.infer<typeof HookSettings>;

const HeaderName = z.string().regex(/^[a-z0-9-]{1,64}$/, 'a lower-case header name');
const CookieName = z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/, 'a cookie name');

/** The hook keys of `proxy`; each hook is off unless configured. */
export const ProxyHooks = {
  /** Decides each `connect`: who the connection is, until when, which channels it joins at once. */
  connect: HookSettings.optional(),
  /** Decides each `refresh`: a new expiry, or the end of the connection. */
  refresh: HookSettings.optional(),
  /** Decides each `sub` (after the namespace's own rules). */
  subscribe: HookSettings.optional(),
  /** Decides each `pub` (after the namespace's own rules). */
  publish: HookSettings.optional(),
  /** Answers every `rpc` method that no `rpc.routes` entry routes (an HTTP route with prefix ''). */
  rpc: HookSettings.optional(),
  /** Headers of the WebSocket upgrade sent to the connect hook (lower case; e.g. `authorization`). */
  forwardHeaders: z.array(HeaderName).max(32).default([]),
  /** Cookies of the WebSocket upgrade sent to the connect hook, by name (e.g. a session cookie). */
  forwardCookies: z.array(CookieName).max(32).default([]),
};
const Hooks = z.strictObject(ProxyHooks);
export type ProxyHookSettings = z.infer<typeof Hooks>;
