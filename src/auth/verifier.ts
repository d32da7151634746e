import type * as Jose from 'jose';
import type { JWTPayload, JWTVerifyOptions } from 'jose';
import { optional } from '../optional.js';
import type { AuthSettings } from './config.js';
import { keysUnavailable, tokenExpired, unauthorized } from './errors.js';
import { loadKeys, type VerificationKey } from './keys.js';

type RemoteKeySet = ReturnType<typeof Jose.createRemoteJWKSet>;

let loaded: typeof Jose | undefined;
/** jose, loaded by the first verifier: a hub without `auth` never needs it (a few MB at start). */
function jose(): typeof Jose {
  loaded ??= optional<typeof Jose>('jose');
  return loaded;
}

/**
 * Verifies JWTs against the configured keys. The token header's `alg` must be one the config
 * pins (a static key's, or one listed for the JWKS), and a token is only ever checked with keys
 * bound to exactly that algorithm: `none`, and an HS256 token made with an RSA public key as its
 * secret, never reach a key. `exp` (required unless configured otherwise), `nbf`, `iss` and `aud`
 * are checked with the configured clock tolerance. Error messages never contain the token.
 */
export class TokenVerifier {
  private readonly keys: readonly VerificationKey[];
  private readonly remote: RemoteKeySet | undefined;
  private readonly remoteAlgorithms: ReadonlySet<string>;
  private readonly accepted: ReadonlySet<string>;
  private readonly options: JWTVerifyOptions;

  constructor(settings: AuthSettings, read?: (file: string) => string) {
    this.keys = loadKeys(settings.keys, read);
    this.remote = settings.jwks
      ? jose().createRemoteJWKSet(new URL(settings.jwks.url), {
          cacheMaxAge: settings.jwks.cacheMaxAgeSeconds * 1000,
          cooldownDuration: settings.jwks.cooldownSeconds * 1000,
          timeoutDuration: settings.jwks.timeoutMs,
        })
      : undefined;
    this.remoteAlgorithms = new Set(settings.jwks?.algorithms ?? []);
    this.accepted = new Set([...this.keys.map((k) => k.alg), ...this.remoteAlgorithms]);
    this.options = {
      clockTolerance: settings.clockToleranceSeconds,
      requiredClaims: settings.requireExp ? ['exp'] : [],
      ...(settings.issuer === undefined ? {} : { issuer: settings.issuer }),
      ...(settings.audience === undefined ? {} : { audience: settings.audience }),
    };
  }

  /** The algorithms a token may be signed with. */
  get algorithms(): readonly string[] {
    return [...this.accepted];
  }

  /** The verified claims; throws an AuthError (101, 109, or a temporary 108) otherwise. */
  async verify(token: string, what = 'token'): Promise<JWTPayload> {
    let alg: unknown;
    let kid: unknown;
    try {
      ({ alg, kid } = jose().decodeProtectedHeader(token));
    } catch {
      throw unauthorized(`malformed ${what}`);
    }
    if (typeof alg !== 'string' || !this.accepted.has(alg)) {
      throw unauthorized(`${what} algorithm ${JSON.stringify(String(alg)).slice(0, 40)} is not accepted`);
    }
    const options = { ...this.options, algorithms: [alg] };
    const candidates = this.keys.filter(
      (key) => key.alg === alg && (key.kid === undefined || kid === undefined || key.kid === kid),
    );
    let lastError: unknown;
    for (const candidate of candidates) {
      try {
        return (await jose().jwtVerify(token, candidate.key, options)).payload;
      } catch (error) {
        // A wrong signature may just mean another key with the same algorithm; anything else
        // (expired, wrong audience) was found with a valid signature and is final.
        if (!(error instanceof jose().errors.JWSSignatureVerificationFailed)) throw refusal(error, what);
        lastError = error;
      }
    }
    if (this.remote && this.remoteAlgorithms.has(alg)) {
      try {
        return (await jose().jwtVerify(token, this.remote, options)).payload;
      } catch (error) {
        throw refusal(error, what, true);
      }
    }
    throw refusal(lastError ?? new (jose().errors.JWKSNoMatchingKey)(), what);
  }
}

function refusal(error: unknown, what: string, remote = false) {
  const { errors } = jose();
  if (error instanceof errors.JWTExpired) return tokenExpired(what);
  if (error instanceof errors.JWTClaimValidationFailed) return unauthorized(`${what} refused: ${error.message}`);
  if (error instanceof errors.JWSSignatureVerificationFailed) return unauthorized(`${what} signature is not valid`);
  if (error instanceof errors.JWKSNoMatchingKey) return unauthorized(`no key matches the ${what}`);
  if (remote && (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid)) return keysUnavailable();
  if (remote && error instanceof errors.JOSEError && error.code === 'ERR_JOSE_GENERIC') return keysUnavailable();
  if (error instanceof errors.JOSEError) return unauthorized(`${what} refused: ${error.message}`);
  // Failures to fetch the key set surface as plain errors (network, abort).
  if (remote) return keysUnavailable();
  return unauthorized(`${what} refused`);
}
