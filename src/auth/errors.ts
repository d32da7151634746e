import { CloseCode, ErrorCode } from '@switchboard/protocol';
import { HubError } from '../errors.js';

/**
 * A refused credential. `closeCode` is what a refused `connect` closes the connection with, right
 * after the `err` reply: 4501 for a token that will never work, 4004 for an expired one (the client
 * reconnects with a fresh token). A refused `refresh` or subscription token only gets the reply.
 */
export class AuthError extends HubError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly closeCode: number | undefined,
    /** The close reason, short and fixed (never the token, nor the detail in `message`). */
    readonly closeReason = '',
  ) {
    super(code, message);
    this.name = 'AuthError';
  }
}

export const unauthorized = (reason: string) =>
  new AuthError(ErrorCode.UNAUTHORIZED, reason, CloseCode.UNAUTHORIZED, 'unauthorized');
export const tokenExpired = (what = 'token') =>
  new AuthError(ErrorCode.TOKEN_EXPIRED, `${what} expired`, CloseCode.TOKEN_EXPIRED, 'token expired');
/** The key set could not be fetched: nobody can be verified right now (temporary, the client retries). */
export const keysUnavailable = () => new AuthError(ErrorCode.NOT_AVAILABLE, 'token keys are not available', undefined);
export const permissionDenied = (reason: string) => new HubError(ErrorCode.PERMISSION_DENIED, reason);
