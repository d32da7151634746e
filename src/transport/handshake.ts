/**
 * What an HTTP request must look like before the hub acts on it: headers within a size limit,
 * and for a WebSocket upgrade, the handshake of RFC 6455 §4.2.1. uWebSockets.js upgrades any
 * GET it routes to a WebSocket handler — without `Upgrade`/`Connection` headers, with any
 * `Sec-WebSocket-Version` — and accepts a 60 KB header when it arrives in one read, so the hub
 * checks these itself. Pure decisions: the caller writes the refusal.
 */

/** A refusal: HTTP status line, extra headers, and a plain-text reason. */
export interface HttpRefusal {
  readonly status: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly reason: string;
}

/** The part of uWS' HttpRequest these checks read. */
export interface RequestHead {
  getHeader(name: string): string;
  getUrl(): string;
  getQuery(): string | undefined;
  forEach(callback: (key: string, value: string) => void): void;
}

/** Bytes of the request line and headers, as sent (`key: value\r\n` per header). */
export function headBytes(req: RequestHead): number {
  let bytes = req.getUrl().length + (req.getQuery()?.length ?? 0) + 16;
  req.forEach((key, value) => {
    bytes += key.length + value.length + 4;
  });
  return bytes;
}

/** 431 when the request line and headers are over `limit` bytes. */
export function headProblem(req: RequestHead, limit: number): HttpRefusal | undefined {
  const bytes = headBytes(req);
  if (bytes <= limit) return undefined;
  return {
    status: '431 Request Header Fields Too Large',
    reason: `request headers over ${limit} bytes (limits.maxHttpHeaderBytes)`,
  };
}

/** A Sec-WebSocket-Key is 16 random bytes in base64: 22 characters and `==`. */
const WEBSOCKET_KEY = /^[A-Za-z0-9+/]{22}==$/;

/** Whether a comma-separated header holds `token` (case-insensitive), as `Connection: keep-alive, Upgrade` does. */
function hasToken(header: string, token: string): boolean {
  return header.split(',').some((part) => part.trim().toLowerCase() === token);
}

/**
 * The refusal of a WebSocket handshake that breaks RFC 6455: 426 with `Sec-WebSocket-Version: 13`
 * for another version (§4.4), 400 without `Upgrade: websocket`, `Connection: upgrade` or a valid
 * `Sec-WebSocket-Key`.
 */
export function handshakeProblem(req: RequestHead): HttpRefusal | undefined {
  if (req.getHeader('sec-websocket-version').trim() !== '13') {
    return {
      status: '426 Upgrade Required',
      headers: { 'sec-websocket-version': '13' },
      reason: 'unsupported WebSocket version; this hub speaks version 13 (RFC 6455)',
    };
  }
  if (!hasToken(req.getHeader('upgrade'), 'websocket')) {
    return { status: '400 Bad Request', reason: 'a WebSocket handshake needs the header Upgrade: websocket' };
  }
  if (!hasToken(req.getHeader('connection'), 'upgrade')) {
    return { status: '400 Bad Request', reason: 'a WebSocket handshake needs the header Connection: Upgrade' };
  }
  if (!WEBSOCKET_KEY.test(req.getHeader('sec-websocket-key').trim())) {
    return { status: '400 Bad Request', reason: 'Sec-WebSocket-Key must be 16 bytes in base64' };
  }
  return undefined;
}

/**
 * 413 for a declared body over `limit` bytes (any length, 2^32 and beyond included), 400 for a
 * Content-Length that is not a number; undefined when the body may be read (its actual size is
 * still counted while reading, for chunked bodies).
 */
export function contentLengthProblem(header: string, limit: number): HttpRefusal | undefined {
  if (header === '') return undefined;
  if (!/^\s*\d+\s*$/.test(header)) return { status: '400 Bad Request', reason: 'Content-Length must be a number' };
  // Compared as text first: lengths beyond 2^53 are still "too large", never a rounding accident.
  const digits = header.trim().replace(/^0+(?=\d)/, '');
  const tooLarge = digits.length > 15 || Number(digits) > limit;
  return tooLarge ? { status: '413 Payload Too Large', reason: `body over ${limit} bytes` } : undefined;
}
