import { createPublicKey, createSecretKey, type JsonWebKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Algorithm, isHmac, type KeySettings } from './config.js';

/** A verification key, usable only for the one algorithm it is bound to. */
export interface VerificationKey {
  readonly alg: Algorithm;
  readonly kid: string | undefined;
  readonly key: KeyObject;
}

/** A key the hub cannot use; `path` names the config key (`auth.keys.0`). */
export class KeyError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'KeyError';
  }
}

const CURVES: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

/** Loads the configured keys, checking that each really is a key of its algorithm's family. */
export function loadKeys(keys: readonly KeySettings[], read = (file: string) => readFileSync(file, 'utf8')) {
  return keys.map((settings, index) => loadKey(settings, `auth.keys.${index}`, read));
}

function loadKey(settings: KeySettings, path: string, read: (file: string) => string): VerificationKey {
  const { alg, kid } = settings;
  const text = (field: 'secretFile' | 'publicKeyFile', file: string) => {
    try {
      return read(file);
    } catch (error) {
      throw new KeyError(`${path}.${field}`, `cannot read ${file}: ${(error as Error).message}`);
    }
  };
  if (isHmac(alg)) {
    const secret = settings.secret ?? text('secretFile', settings.secretFile ?? '').replace(/\r?\n$/, '');
    if (Buffer.byteLength(secret) < 32) throw new KeyError(path, 'an HMAC secret needs at least 32 bytes');
    return { alg, kid, key: createSecretKey(Buffer.from(secret, 'utf8')) };
  }
  let key: KeyObject;
  try {
    if (settings.jwk) {
      if ('d' in settings.jwk || settings.jwk.kty === 'oct')
        throw new Error('give the public JWK, not a private or secret one');
      key = createPublicKey({ key: settings.jwk as JsonWebKey, format: 'jwk' });
    } else {
      const pem = settings.publicKey ?? text('publicKeyFile', settings.publicKeyFile ?? '');
      if (pem.includes('PRIVATE KEY')) throw new Error('give the public key, not the private key');
      key = pem.includes('BEGIN CERTIFICATE') ? new X509Certificate(pem).publicKey : createPublicKey(pem);
    }
  } catch (error) {
    if (error instanceof KeyError) throw error;
    throw new KeyError(path, `not a usable public key: ${(error as Error).message}`);
  }
  const problem = familyProblem(alg, key);
  if (problem) throw new KeyError(path, problem);
  return { alg, kid, key };
}

function familyProblem(alg: Algorithm, key: KeyObject): string | undefined {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails;
  if (alg.startsWith('RS') || alg.startsWith('PS')) {
    if (type !== 'rsa' && !(alg.startsWith('PS') && type === 'rsa-pss')) return `${alg} needs an RSA key, not ${type}`;
    if ((details?.modulusLength ?? 0) < 2048) return `${alg} needs an RSA key of at least 2048 bits`;
    return undefined;
  }
  if (alg.startsWith('ES')) {
    if (type !== 'ec') return `${alg} needs an EC key, not ${type}`;
    if (details?.namedCurve !== CURVES[alg]) return `${alg} needs a key on curve ${CURVES[alg]}`;
    return undefined;
  }
  if (type !== 'ed25519' && type !== 'ed448') return `EdDSA needs an Ed25519 or Ed448 key, not ${type}`;
  return undefined;
}
