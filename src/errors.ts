import { ErrorCode, isTemporaryError } from '@switchboard/protocol';

/** A refusal the client is told about in an `err` reply; `code` is one of protocol's ErrorCode. */
export class HubError extends Error {
  readonly temporary: boolean;
  constructor(
    readonly code: ErrorCode | number,
    message: string,
    /** With 118 (SERVICE_ERROR): the service's own code, sent as the reply's `svc`. */
    readonly serviceCode?: string,
  ) {
    super(message);
    this.name = 'HubError';
    this.temporary = isTemporaryError(code);
  }
}

export const unknownChannel = (channel: string) =>
  new HubError(ErrorCode.UNKNOWN_CHANNEL, `channel ${JSON.stringify(channel)} matches no configured namespace`);
export const limitExceeded = (what: string, limit: number) =>
  new HubError(ErrorCode.LIMIT_EXCEEDED, `${what} limit of ${limit} reached`);
export const notAvailable = (what: string) => new HubError(ErrorCode.NOT_AVAILABLE, `${what} is not available`);
