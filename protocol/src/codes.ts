/**
 * Error codes carried by `err` replies. Stable: a code is never reused for another meaning.
 * `temporary` errors may succeed when retried later; the others will not until something changes.
 */
export const ErrorCode = {
  INTERNAL: 100,
  UNAUTHORIZED: 101,
  UNKNOWN_CHANNEL: 102,
  PERMISSION_DENIED: 103,
  UNKNOWN_COMMAND: 104,
  ALREADY_SUBSCRIBED: 105,
  LIMIT_EXCEEDED: 106,
  BAD_REQUEST: 107,
  NOT_AVAILABLE: 108,
  TOKEN_EXPIRED: 109,
  NOT_CONNECTED: 110,
  TOO_MANY_REQUESTS: 111,
  UNRECOVERABLE_POSITION: 112,
  ALREADY_CONNECTED: 113,
  INVALID_PAYLOAD: 114,
  /**
   * The target did not answer within its time (a produce that timed out): the publication may or
   * may not have been accepted. Retry with the same `key`; the hub and services drop duplicates.
   */
  OUTCOME_UNKNOWN: 115,
  /** No service answers this `rpc` method (no route in the hub's configuration). */
  NO_ROUTE: 116,
  /** The service did not answer the `rpc` within its deadline; it may still have acted on it. */
  RPC_TIMEOUT: 117,
  /** The service answered the `rpc` with an error; `svc` carries its own code. */
  SERVICE_ERROR: 118,
  /** A proxy backend or RPC endpoint failed: unreachable, timed out, an error status, or an invalid answer. */
  BACKEND_UNAVAILABLE: 119,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const TEMPORARY_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.INTERNAL,
  ErrorCode.NOT_AVAILABLE,
  ErrorCode.TOO_MANY_REQUESTS,
  ErrorCode.OUTCOME_UNKNOWN,
  ErrorCode.RPC_TIMEOUT,
  ErrorCode.BACKEND_UNAVAILABLE,
]);

/**
 * Codes a proxy backend (docs/proxy.md) may deny with: applications' own, never the hub's. A
 * client sees them as they were given, not temporary.
 */
export const APPLICATION_CODES = { min: 1000, max: 1999 } as const;

export function isTemporaryError(code: number): boolean {
  return TEMPORARY_ERRORS.has(code);
}

/**
 * WebSocket close codes sent by the hub. 4000–4499: the client should reconnect (with backoff)
 * and recover; 4500–4999: reconnecting as-is would fail the same way, so the client stops.
 * 1009 is sent by the transport itself for a frame over the size limit.
 */
export const CloseCode = {
  SHUTDOWN: 4000,
  SLOW_CONSUMER: 4001,
  INTERNAL: 4002,
  TOO_MANY_REQUESTS: 4003,
  TOKEN_EXPIRED: 4004,
  CONNECTION_LIMIT: 4005,
  /** No connect frame in time: a slow client (a throttled tab, a slow token fetch) may try again. */
  CONNECT_TIMEOUT: 4006,
  /** Closed by the server API's `disconnect` (the default code): reconnect. */
  SERVER_DISCONNECT: 4007,
  MALFORMED_FRAME: 4500,
  UNAUTHORIZED: 4501,
  /** Closed by the server API's `disconnect` with `reconnect: false`: do not reconnect. */
  SERVER_DISCONNECT_FINAL: 4502,
  FORBIDDEN: 4503,
  FRAME_TOO_LARGE: 1009,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Whether a client that saw this close code should reconnect. Unknown codes reconnect. */
export function shouldReconnect(code: number): boolean {
  return !(code >= 4500 && code <= 4999) && code !== CloseCode.FRAME_TOO_LARGE;
}
