import { APPLICATION_CODES, Channel, ErrorCode } from '@switchboard/protocol';
import { z } from 'zod';
import { AuthError } from '../auth/errors.js';
import { ChannelPatterns } from '../auth/patterns.js';
import type { Principal } from '../auth/principal.js';
import { HubError } from '../errors.js';
import type { RpcRoute } from '../rpc/config.js';
import type { HookSettings, ProxyHookSettings } from './config.js';
import type { Forwarded } from './forwarded.js';
import { postJson } from './http.js';

/** Channels a connect backend may have a connection join at once; more is an invalid answer. */
const MAX_SERVER_CHANNELS = 64;

const AppDeny = z.strictObject({
  code: z.number().int().min(APPLICATION_CODES.min).max(APPLICATION_CODES.max),
  reason: z.string().max(256).default(''),
});
/** A connect or refresh is denied by closing the connection: `code` is the close code (4000–4999). */
const CloseDeny = z.strictObject({
  code: z.number().int().min(4000).max(4999),
  // A WebSocket close reason holds at most 123 bytes.
  reason: z.string().max(100).default(''),
});
const Allowed = z.strictObject({ allow: z.strictObject({}) });

const ConnectAnswer = z.union([
  z.strictObject({
    allow: z.strictObject({
      user: z.string().min(1).max(256).optional(),
      /** Unix seconds at which the connection ends unless refreshed. */
      expireAt: z.number().int().positive().optional(),
      channels: z.array(Channel).max(MAX_SERVER_CHANNELS).default([]),
      meta: z.unknown().optional(),
    }),
  }),
  z.strictObject({ deny: CloseDeny }),
]);
const RefreshAnswer = z.union([
  z.strictObject({ allow: z.strictObject({ expireAt: z.number().int().positive().optional() }) }),
  z.strictObject({ deny: CloseDeny }),
]);
const DecideAnswer = z.union([Allowed, z.strictObject({ deny: AppDeny })]);

/** What a connect sends its backend besides the connection id. */
export interface ConnectAsk {
  readonly connection: string;
  readonly token: string | undefined;
  readonly name: string | undefined;
  readonly version: string | undefined;
  readonly forwarded: Forwarded | undefined;
}

/** The connect backend's decision: who the connection acts as, and the channels it joins at once. */
export interface Admitted {
  readonly principal: Principal;
  readonly channels: readonly string[];
}

/**
 * Proxy hooks as a decider (docs/proxy.md): asks the team's HTTP backends about a connect,
 * refresh, subscribe or publish and returns the decision; the session applies it (as with
 * src/auth). A denial throws the backend's code: an AuthError that closes the connection for
 * connect and refresh, a HubError with an application code (1000–1999) otherwise. A backend that
 * fails (unreachable, too slow, an error status, an answer too large or of the wrong shape)
 * throws 119, temporary. Every call is a fetch with its own timeout: a slow backend delays only
 * the connections waiting on it.
 */
export class ProxyDecider {
  constructor(private readonly settings: ProxyHookSettings) {}

  /** Whether a hook decides connects (instead of the token verifier). */
  get decidesConnect(): boolean {
    return this.settings.connect !== undefined;
  }

  /** Whether a hook decides refreshes (instead of the token verifier). */
  get decidesRefresh(): boolean {
    return this.settings.refresh !== undefined;
  }

  /** The rpc hook as a catch-all HTTP route, when configured. */
  rpcRoutes(): RpcRoute[] {
    const hook = this.settings.rpc;
    return hook ? [{ type: 'http', prefix: '', url: hook.url, timeoutMs: hook.timeoutMs }] : [];
  }

  async connect(ask: ConnectAsk): Promise<Admitted> {
    const hook = this.settings.connect;
    if (!hook) throw new Error('no connect hook');
    const answer = await this.ask(
      hook,
      'connect',
      {
        connection: ask.connection,
        token: ask.token,
        name: ask.name,
        version: ask.version,
        headers: ask.forwarded?.headers ?? {},
        cookies: ask.forwarded?.cookies ?? {},
      },
      ConnectAnswer,
    );
    if ('deny' in answer) throw closing(answer.deny);
    const { user, expireAt, channels, meta } = answer.allow;
    return {
      principal: {
        anonymous: user === undefined,
        sub: user,
        subscribe: ChannelPatterns.none,
        publish: ChannelPatterns.none,
        expiresAt: expireAt === undefined ? undefined : expireAt * 1000,
        attached: meta,
      },
      channels,
    };
  }

  /** The principal after a refresh; `current` unchanged without a refresh hook. */
  async refresh(current: Principal, connection: string, token: string): Promise<Principal> {
    const hook = this.settings.refresh;
    if (!hook) return current;

    const answer = await this.ask(
      hook,
      'refresh',
      { connection, user: current.sub, meta: current.attached, token },
      RefreshAnswer,
    );
    if ('deny' in answer) throw closing(answer.deny);
    const { expireAt } = answer.allow;
    return { ...current, expiresAt: expireAt === undefined ? undefined : expireAt * 1000 };
  }

  /** Resolves when the subscribe hook allows it (or there is none); throws its denial. */
  async subscribe(principal: Principal, connection: string, channel: string): Promise<void> {
    const hook = this.settings.subscribe;
    if (hook)
      await this.decide(hook, 'subscribe', { connection, user: principal.sub, meta: principal.attached, channel });
  }

  /** Resolves when the publish hook allows it (or there is none); throws its denial. */
  async publish(principal: Principal, connection: string, channel: string, data: unknown): Promise<void> {
    const hook = this.settings.publish;
    if (hook)
      await this.decide(hook, 'publish', { connection, user: principal.sub, meta: principal.attached, channel, data });
  }

  private async decide(hook: HookSettings, name: string, body: object): Promise<void> {
    const answer = await this.ask(hook, name, body, DecideAnswer);
    if ('deny' in answer) throw new HubError(answer.deny.code, answer.deny.reason || `denied by the ${name} hook`);
  }

  private async ask<T>(hook: HookSettings, name: string, body: object, schema: z.ZodType<T>): Promise<T> {
    const answer = await postJson(
      hook.url,
      body,
      { timeoutMs: hook.timeoutMs, maxBytes: hook.maxResponseBytes },
      schema,
    );
    if (!answer.ok) throw new HubError(ErrorCode.BACKEND_UNAVAILABLE, `the ${name} hook failed: ${answer.reason}`);
    return answer.value;
  }
}

/** A denial that ends the connection: err 103 with the reason, then close with the backend's code. */
function closing(deny: z.infer<typeof CloseDeny>): AuthError {
  const reason = deny.reason || 'denied';
  return new AuthError(ErrorCode.PERMISSION_DENIED, reason, deny.code, reason);
}
