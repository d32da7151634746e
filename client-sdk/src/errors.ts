/**
 * Codes of failures detected by the client itself, kept apart from the hub's numeric
 * protocol ErrorCodes so that the two can never collide.
 */
export const ClientErrorCode = {
  /** No reply within `requestTimeoutMs`. */
  TIMEOUT: 'timeout',
  /** The socket dropped before the reply came; the request may or may not have taken effect. */
  DISCONNECTED: 'disconnected',
  /** The client is closed for good: by `close()` or by a close code that forbids reconnecting. */
  CLOSED: 'closed',
  /** The handle was released with `unsubscribe()` before its subscription was made. */
  UNSUBSCRIBED: 'unsubscribed',
  /** No WebSocket implementation was passed and there is no global one. */
  NO_WEBSOCKET: 'no_websocket',
  /** The hub sent bytes that are not a valid frame, or a reply of the wrong shape. */
  BAD_FRAME: 'bad_frame',
  /** The frame is larger than the hub accepts (its `maxFrame`); it was not sent. */
  FRAME_TOO_LARGE: 'frame_too_large',
  /** The `token` function threw or rejected. */
  TOKEN: 'token',
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

export class SwitchboardError extends Error {
  /**
   * @param code a protocol `ErrorCode` (a number) when the hub refused, otherwise a `ClientErrorCode`
   * @param temporary whether the same thing may succeed when tried again later
   */
  constructor(
    readonly code: number | ClientErrorCode,
    message: string,
    readonly temporary: boolean,
    /** With 118 (a service answered an `rpc` with an error): the service's own code. */
    readonly serviceCode?: string,
  ) {
    super(message);
    this.name = 'SwitchboardError';
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
