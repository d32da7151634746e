import { dataProblem } from '@switchboard/protocol';
import type { JWTPayload } from 'jose';
import { unauthorized } from './errors.js';
import { ChannelPatterns, MAX_GRANTS } from './patterns.js';

/** Who a connection acts as: the claims of its token that authorization uses. */
export interface Principal {
  /** No token: may only use namespaces whose rule is `public`. */
  readonly anonymous: boolean;
  /** The token's subject (`sub`), if it has one. */
  readonly sub: string | undefined;
  /** Channels the token grants subscribing to. */
  readonly subscribe: ChannelPatterns;
  /** Channels the token grants publishing into. */
  readonly publish: ChannelPatterns;
  /** Unix milliseconds of the token's `exp`. */
  readonly expiresAt: number | undefined;
  /** The token's `jti`, by which the server API may revoke it. */
  readonly tokenId?: string | undefined;
  /** Unix milliseconds of the token's `iat`: revoking a user's tokens revokes those issued before a time. */
  readonly issuedAt?: number | undefined;
  /** The token's `info` claim: what presence shows of the connection. */
  readonly info?: unknown;
  /** What a proxy connect backend attached to the connection (`meta`), sent with its later hook calls. */
  readonly attached?: unknown;
}

export const ANONYMOUS: Principal = {
  anonymous: true,
  sub: undefined,
  subscribe: ChannelPatterns.none,
  publish: ChannelPatterns.none,
  expiresAt: undefined,
};

export interface ClaimNames {
  readonly channelsClaim: string;
  readonly publishClaim: string;
}

/** The principal of a verified connection token; refuses claims of the wrong shape with 101. */
export function principalOf(claims: JWTPayload, names: ClaimNames): Principal {
  if (claims.channel !== undefined) throw unauthorized('a subscription token cannot open a connection');
  if (claims.sub !== undefined && typeof claims.sub !== 'string') throw unauthorized('sub must be a string');
  const grants = (claim: string) => {
    const patterns = ChannelPatterns.fromClaim(claims[claim]);
    if (!patterns) throw unauthorized(`claim ${claim} must be a list of at most ${MAX_GRANTS} channel patterns`);
    return patterns;
  };
  if (claims.jti !== undefined && typeof claims.jti !== 'string') throw unauthorized('jti must be a string');
  const infoProblem = claims.info === undefined ? undefined : dataProblem(claims.info);
  if (infoProblem) throw unauthorized(`claim info: ${infoProblem}`);
  return {
    anonymous: false,
    sub: claims.sub,
    subscribe: grants(names.channelsClaim),
    publish: grants(names.publishClaim),
    expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : undefined,
    tokenId: claims.jti,
    issuedAt: typeof claims.iat === 'number' ? claims.iat * 1000 : undefined,
    info: claims.info,
  };
}
