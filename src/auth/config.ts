import { z } from 'zod';

/**
 * Configuration schemas of authentication, authorization and the network-facing guards (origin
 * allow-list, trusted proxies, TLS, HTTP API key). `src/config.ts` assembles them into the one
 * validated configuration; docs/security.md and docs/configuration.md describe every key.
 */

export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
/** Every algorithm a key may be bound to. `none` is not one of them, whatever the config says. */
export const ALGORITHMS = [...HMAC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS] as const;
export type Algorithm = (typeof ALGORITHMS)[number];
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

export function isHmac(alg: string): boolean {
  return (HMAC_ALGORITHMS as readonly string[]).includes(alg);
}

/**
 * One verification key, bound to exactly one algorithm: an HMAC secret verifies only tokens whose
 * header says that HS algorithm, a public key only its own family, so an HS256 token "signed" with
 * an RSA public key as its secret never meets the RSA key.
 */
const KeySettings = z
  .strictObject({
    alg: z.enum(ALGORITHMS),
    /** Matched against the token header's `kid` when both have one. */
    kid: z.string().min(1).max(256).optional(),
    /** HS*: the shared secret (UTF-8), at least 32 characters. */
    secret: z.string().min(32, 'an HMAC secret needs at least 32 characters').optional(),
    /** HS*: a file holding the secret (trailing newline ignored). */
    secretFile: z.string().min(1).optional(),
    /** RS*, PS*, ES*, EdDSA: a PEM public key (SPKI) or certificate. */
    publicKey: z.string().min(1).optional(),
    /** RS*, PS*, ES*, EdDSA: a file holding the PEM public key or certificate. */
    publicKeyFile: z.string().min(1).optional(),
    /** RS*, PS*, ES*, EdDSA: the public key as a JWK. */
    jwk: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((key, context) => {
    const given = (['secret', 'secretFile', 'publicKey', 'publicKeyFile', 'jwk'] as const).filter(
      (name) => key[name] !== undefined,
    );
    const allowed = isHmac(key.alg) ? ['secret', 'secretFile'] : ['publicKey', 'publicKeyFile', 'jwk'];
    if (given.length !== 1 || !allowed.includes(given[0] ?? '')) {
      context.addIssue({
        code: 'custom',
        message: `${key.alg} needs exactly one of ${allowed.join(', ')}`,
      });
    }
  });
export type KeySettings = z.infer<typeof KeySettings>;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

const JwksSettings = z.strictObject({
  /** The JWKS document (https; http only to a loopback host). Fetched on demand, cached, refreshed. */
  url: z
    .string()
    .url()
    .refine(
      (url) => {
        const parsed = new URL(url);
        return parsed.protocol === 'https:' || (parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname));
      },
      { message: 'must be an https:// URL (http:// only for a loopback host)' },
    ),
  /** Algorithms accepted from this set; HMAC never comes from a JWKS. */
  algorithms: z.array(z.enum(ASYMMETRIC_ALGORITHMS)).min(1),
  /** Seconds a fetched key set is used before it is fetched again. */
  cacheMaxAgeSeconds: z.number().int().min(10).max(86_400).default(600),
  /** Seconds between two fetches triggered by an unknown `kid` (bounds what tokens can make us fetch). */
  cooldownSeconds: z.number().int().min(1).max(3_600).default(30),
  /** Milliseconds a fetch may take. */
  timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
});

const StringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** Absent: no authentication (anyone may do anything; the development default). */
export const AuthSettings = z
  .strictObject({
    /** Static verification keys, each bound to its algorithm. */
    keys: z.array(KeySettings).default([]),
    /** A remote JSON Web Key Set. */
    jwks: JwksSettings.optional(),
    /** Required `iss` (one of them, for a list). */
    issuer: StringOrList.optional(),
    /** Required `aud` (the token must name one of them, for a list). */
    audience: StringOrList.optional(),
    /** Leeway for `exp` and `nbf`, for clocks that disagree a little. */
    clockToleranceSeconds: z.number().int().min(0).max(300).default(5),
    /** Refuse tokens without `exp`. */
    requireExp: z.boolean().default(true),
    /** Claim listing channel patterns the token may subscribe to (`orders:*`). */
    channelsClaim: z.string().min(1).max(64).default('channels'),
    /** Claim listing channel patterns the token may publish to. */
    publishClaim: z.string().min(1).max(64).default('publish'),
  })
  .superRefine((auth, context) => {
    if (auth.keys.length === 0 && !auth.jwks) {
      context.addIssue({ code: 'custom', path: ['keys'], message: 'give at least one key, or jwks' });
    }
  });
export type AuthSettings = z.infer<typeof AuthSettings>;

/**
 * Who may subscribe to, or publish into, a namespace's channels (with authentication on):
 * `public` anyone, anonymous connections included; `authenticated` any valid token;
 * `user` only the channel `<namespace>:<sub>` of the token's subject; `granted` only channels the
 * token's claims grant (or, to subscribe, a subscription token). Claim grants and subscription
 * tokens allow on top of any rule.
 */
export const AccessRule = z.enum(['public', 'authenticated', 'user', 'granted']);
export type AccessRule = z.infer<typeof AccessRule>;

/** What clients may publish into a namespace; checked before anything reaches the broker or egress. */
export const PayloadSettings = z.strictObject({
  /** Largest `d`, in bytes of its JSON text. */
  maxBytes: z
    .number()
    .int()
    .min(1)
    .max(64 * 1024 * 1024)
    .optional(),
  /** A JSON Schema (draft-07 or 2019-09 keywords as ajv supports them) that `d` must satisfy. */
  schema: z.record(z.string(), z.unknown()).optional(),
});
export type PayloadSettings = z.infer<typeof PayloadSettings>;

/** An exact browser origin: scheme, host and non-default port, nothing else (`https://app.example.com`). */
export const Origin = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
    } catch {
      return false;
    }
  },
  { message: 'must be an origin like https://app.example.com (scheme, lower-case host, port only if not default)' },
);

export const ProxySettings = z.strictObject({
  /** Peer addresses (IPs or CIDRs) of proxies whose forwarded client address is believed. */
  trusted: z.array(z.string().regex(/^[0-9A-Fa-f.:]+(\/\d{1,3})?$/, 'an IP address or CIDR')).default([]),
  /** How trusted proxies forward the client address: `x-forwarded-for` header or PROXY protocol v2. */
  protocol: z.enum(['x-forwarded-for', 'proxy-protocol']).default('x-forwarded-for'),
});
export type ProxySettings = z.infer<typeof ProxySettings>;

/** TLS termination in the hub itself (uWS SSLApp). */
export const TlsSettings = z.strictObject({
  certFile: z.string().min(1),
  keyFile: z.string().min(1),
  /** Passphrase of an encrypted key file. */
  passphrase: z.string().optional(),
  /** CA bundle sent along with the certificate chain. */
  caFile: z.string().min(1).optional(),
});
export type TlsSettings = z.infer<typeof TlsSettings>;

export const HttpSettings = z.strictObject({
  /**
   * Key services present as `Authorization: Bearer <key>` to `POST /api/publish`
   * (at least 24 characters). Prefer setting it with SWITCHBOARD_HTTP__API_KEY.
   */
  apiKey: z.string().min(24, 'at least 24 characters').optional(),
  /**
   * Without an `apiKey`: `loopback` serves the publish API only to clients on this machine
   * (127.0.0.0/8, ::1), `off` not at all (403 either way).
   */
  publishWithoutKey: z.enum(['loopback', 'off']).default('loopback'),
  /**
   * A second, plain-HTTP listener for operators (`GET /metrics`, `/healthz`, `/readyz`), to be
   * reachable only inside the cluster. With it, the public port no longer serves `/metrics`;
   * without it, `/metrics` on the public port needs the API key (or, without a key, a caller on
   * this machine), like the publish API.
   */
  internalPort: z.number().int().min(0).max(65_535).optional(),
  /** Address the internal listener binds. */
  internalHost: z.string().min(1).default('0.0.0.0'),
});
export type HttpSettings = z.infer<typeof HttpSettings>;
