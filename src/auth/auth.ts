import { namespaceOf } from '@switchboard/protocol';
import type { Config } from '../config.js';
import type { Namespaces } from '../namespaces.js';
import { ApiAccess } from './api-key.js';
import type { AccessRule, AuthSettings } from './config.js';
import { permissionDenied, unauthorized } from './errors.js';
import { OriginPolicy } from './origin.js';
import { ANONYMOUS, type Principal, principalOf } from './principal.js';
import { TokenVerifier } from './verifier.js';

export type Operation = 'subscribe' | 'publish';

/** Refusals by kind, for metrics. */
export interface AuthCounters {
  connect: number;
  refresh: number;
  subscribe: number;
  publish: number;
}

/**
 * Authentication and authorization of one hub. Without `auth` in the config it is open: every
 * connection is accepted and may subscribe and publish anywhere (the development default). With
 * it, `connect` needs a valid token (or is anonymous, when some namespace is `public`), and every
 * subscribe and publish is checked against the namespace's rule and the token's grants.
 */
export class Auth {
  readonly enabled: boolean;
  /** Whether a connect without a token is accepted (some namespace is `public`). */
  readonly allowsAnonymous: boolean;
  readonly origins: OriginPolicy;
  readonly api: ApiAccess;
  readonly refused: AuthCounters = { connect: 0, refresh: 0, subscribe: 0, publish: 0 };
  /** Milliseconds a connection outlives its token's `exp` (the clock tolerance). */
  readonly graceMs: number;
  private readonly settings: AuthSettings | undefined;
  private readonly verifier: TokenVerifier | undefined;

  constructor(
    config: Config,
    private readonly namespaces: Namespaces,
  ) {
    this.settings = config.auth;
    this.enabled = config.auth !== undefined;
    this.verifier = config.auth ? new TokenVerifier(config.auth) : undefined;
    this.graceMs = (config.auth?.clockToleranceSeconds ?? 0) * 1000;
    const all = [config.defaultNamespace, ...Object.values(config.namespaces)];
    this.allowsAnonymous = all.some((ns) => ns.subscribe === 'public' || ns.publish === 'public');
    this.origins = new OriginPolicy(config.origins);
    this.api = new ApiAccess(config.http);
  }

  /** The principal of a `connect`; throws an AuthError (101 / 109, or a temporary 108). */
  async authenticate(token: string | undefined): Promise<Principal> {
    if (!this.verifier || !this.settings) return ANONYMOUS;
    try {
      if (token === undefined) {
        if (this.allowsAnonymous) return ANONYMOUS;
        throw unauthorized('a token is required');
      }
      return principalOf(await this.verifier.verify(token), this.settings);
    } catch (error) {
      this.refused.connect += 1;
      throw error;
    }
  }

  /**
   * The principal of a refreshed token, which must be for the same subject as `current`: 101 (or
   * 109) when refused, which changes nothing (the connection still ends at the old `exp`).
   * Without authentication there is nothing to renew: `current` stays.
   */
  async refreshed(current: Principal, token: string): Promise<Principal> {
    if (!this.verifier || !this.settings) return current;
    try {
      if (current.anonymous) throw unauthorized('an anonymous connection has no token to refresh');
      const next = principalOf(await this.verifier.verify(token), this.settings);
      if (next.sub !== current.sub) throw unauthorized('the new token is for another subject');
      return next;
    } catch (error) {
      this.refused.refresh += 1;
      throw error;
    }
  }

  /**
   * Decides a subscription: allowed by the namespace's rule, by the principal's grants, or by an
   * earlier subscription token still valid (`grantedByToken`) — then undefined; or by the
   * subscription token given now (a JWT whose `channel` claim names the channel and whose `sub`
   * is the principal's) — then the grant to remember, valid until its `exp`. Throws 103 when
   * nothing allows it, 101 for a refused subscription token, 109 for an expired one.
   */
  async authorizeSubscribe(
    principal: Principal,
    channel: string,
    token: string | undefined,
    grantedByToken: boolean,
  ): Promise<{ readonly until: number | undefined } | undefined> {
    if (!this.verifier) return undefined;
    if (this.allows(principal, channel, 'subscribe') || grantedByToken) return undefined;
    if (token === undefined) {
      this.refused.subscribe += 1;
      throw permissionDenied(`not allowed to subscribe to ${channel}`);
    }
    try {
      const claims = await this.verifier.verify(token, 'subscription token');
      if (claims.channel !== channel) throw unauthorized(`the subscription token is not for ${channel}`);
      if (claims.sub !== principal.sub) throw unauthorized('the subscription token is for another subject');
      return { until: typeof claims.exp === 'number' ? claims.exp * 1000 : undefined };
    } catch (error) {
      this.refused.subscribe += 1;
      throw error;
    }
  }

  /** Throws 103 unless the principal may publish into `channel`. */
  authorizePublish(principal: Principal, channel: string): void {
    if (!this.enabled || this.allows(principal, channel, 'publish')) return;
    this.refused.publish += 1;
    throw permissionDenied(`not allowed to publish to ${channel}`);
  }

  /** Whether the principal may do `operation` on `channel` by rule or by its token's grants. */
  allows(principal: Principal, channel: string, operation: Operation): boolean {
    if (!this.enabled) return true;
    const rule: AccessRule = this.namespaces.of(channel).settings[operation] ?? 'granted';
    if (rule === 'public') return true;
    if (principal.anonymous) return false;
    if (rule === 'authenticated') return true;
    if (rule === 'user' && principal.sub !== undefined && channel === `${namespaceOf(channel)}:${principal.sub}`)
      return true;
    return (operation === 'subscribe' ? principal.subscribe : principal.publish).matches(channel);
  }
}
