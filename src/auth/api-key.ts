import { createHash, timingSafeEqual } from 'node:crypto';
import { isLoopback } from '../limits/address.js';
import type { HttpSettings } from './config.js';

export interface ApiRefusal {
  readonly status: string;
  readonly reason: string;
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Who may call the HTTP API (`POST /api/publish`) and read `GET /metrics` on the public port. With `http.apiKey`: requests carrying
 * `Authorization: Bearer <key>`, compared in constant time (digests of equal length, so neither
 * the key nor its length leaks through timing). Without: with `publishWithoutKey: loopback`
 * (the default) only clients on this machine, otherwise nobody.
 */
export class ApiAccess {
  private readonly key: Buffer | undefined;
  /** Requests refused, for metrics. */
  refused = 0;

  constructor(private readonly settings: HttpSettings) {
    this.key = settings.apiKey === undefined ? undefined : digest(settings.apiKey);
  }

  /** The refusal for a request with this `authorization` header ('' when absent) from `peer`. */
  check(authorization: string, peer: string): ApiRefusal | undefined {
    if (this.key) {
      const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
      if (match?.[1] !== undefined && timingSafeEqual(digest(match[1]), this.key)) return undefined;
      return this.refuse('401 Unauthorized', 'a valid API key is required (Authorization: Bearer <key>)');
    }
    if (this.settings.publishWithoutKey === 'loopback' && isLoopback(peer)) return undefined;
    return this.refuse(
      '403 Forbidden',
      this.settings.publishWithoutKey === 'off'
        ? 'the HTTP API is off; set http.apiKey'
        : 'without http.apiKey the HTTP API only serves this machine (loopback)',
    );
  }

  private refuse(status: string, reason: string): ApiRefusal {
    this.refused += 1;
    return { status, reason };
  }
}
