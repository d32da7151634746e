import { SignJWT } from 'jose';
import { parseCommandLine } from './args.js';
import { UsageError } from './usage.js';

const USAGE = `Usage: switchboard token --sub SUBJECT [--channels PATTERN,...] [--secret SECRET] [options]

Prints an HS256 JWT for a hub whose auth.keys hold the same secret. A development helper:
production tokens come from your identity provider or backend.
  --sub SUBJECT           the token's subject (sub), e.g. alice
  --channels PATTERNS     comma-separated channel patterns it may subscribe to (orders:*,news:eu)
  --publish PATTERNS      comma-separated channel patterns it may publish into
  --channel CHANNEL       make a subscription token for this one channel instead
  --secret SECRET         the HMAC secret, at least 32 characters (default: $SWITCHBOARD_TOKEN_SECRET)
  --ttl SECONDS           lifetime (default 3600)
  --iss ISSUER            issuer claim (iss)
  --aud AUDIENCE          audience claim (aud)`;

const OPTIONS = {
  sub: { type: 'string' },
  channels: { type: 'string' },
  publish: { type: 'string' },
  channel: { type: 'string' },
  secret: { type: 'string' },
  ttl: { type: 'string' },
  iss: { type: 'string' },
  aud: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const list = (value: string | undefined) =>
  value === undefined
    ? undefined
    : value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');

export async function token(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, OPTIONS);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`, USAGE);
  const secret = values.secret ?? process.env.SWITCHBOARD_TOKEN_SECRET;
  if (secret === undefined) throw new UsageError('give --secret (or $SWITCHBOARD_TOKEN_SECRET)', USAGE);
  if (Buffer.byteLength(secret) < 32) throw new UsageError('the secret needs at least 32 characters', USAGE);
  if (values.sub === undefined && values.channel === undefined) throw new UsageError('give --sub', USAGE);
  const ttl = Number(values.ttl ?? 3600);
  if (!Number.isInteger(ttl) || ttl < 1)
    throw new UsageError(`--ttl must be a positive integer, not ${values.ttl}`, USAGE);
  const claims: Record<string, unknown> = {};
  const channels = list(values.channels);
  const publish = list(values.publish);
  if (values.channel !== undefined) claims.channel = values.channel;
  if (channels) claims.channels = channels;
  if (publish) claims.publish = publish;
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttl);
  if (values.sub !== undefined) jwt = jwt.setSubject(values.sub);
  if (values.iss !== undefined) jwt = jwt.setIssuer(values.iss);
  if (values.aud !== undefined) jwt = jwt.setAudience(values.aud);
  process.stdout.write(`${await jwt.sign(Buffer.from(secret, 'utf8'))}\n`);
  return 0;
}
