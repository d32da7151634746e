import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { contentLengthProblem } from '../transport/handshake.js';
import { isAborted, respondRefusal } from './respond.js';

/** uWebSockets.js 20.30's parser takes at most 999,999,999 as a Content-Length; beyond, it closes the socket. */
const TRANSPORT_MAX_CONTENT_LENGTH = 999_999_999;
/**
 * Above uWS' cork buffer (16 KiB), a response is written to the socket at once instead of being
 * buffered: that is what lets a 413 leave before the parser's close drops the buffer.
 */
const UNCORKED_RESPONSE_BYTES = 16 * 1024 + 1;

/**
 * Answers 413 (or 400) and returns true when the declared Content-Length is over `limit`, before
 * any of the body is read. For lengths the native parser refuses (not a number, or 10^9 and more,
 * which it answers by closing the socket right after this handler, dropping what was written), the reason is
 * padded past the cork buffer so that the 413 is on the wire before that close.
 */
export function refuseOversizedBody(res: HttpResponse, req: HttpRequest, limit: number): boolean {
  const header = req.getHeader('content-length');
  const refusal = contentLengthProblem(header, limit);
  if (!refusal) return false;
  const digits = header.trim().replace(/^0+(?=\d)/, '');
  const parserCloses = !/^\d+$/.test(digits) || digits.length > 9 || Number(digits) > TRANSPORT_MAX_CONTENT_LENGTH;
  respondRefusal(res, {
    ...refusal,
    headers: { connection: 'close' },
    reason: parserCloses ? `${refusal.reason}\n`.padEnd(UNCORKED_RESPONSE_BYTES, ' ') : refusal.reason,
  });
  return true;
}

export type BodyResult =
  | { readonly ok: true; readonly body: Buffer }
  | { readonly ok: false; readonly tooLarge: boolean };

/**
 * Collects a request body up to `limit` bytes (the caller has installed `trackAbort`). uWS
 * reuses each chunk's memory after the callback, so chunks are copied.
 */
export function readBody(res: HttpResponse, limit: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    res.onData((chunk, isLast) => {
      if (done) return;
      if (isAborted(res)) {
        done = true;
        return resolve({ ok: false, tooLarge: false });
      }
      size += chunk.byteLength;
      if (size > limit) {
        done = true;
        return resolve({ ok: false, tooLarge: true });
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) {
        done = true;
        resolve({ ok: true, body: Buffer.concat(chunks, size) });
      }
    });
  });
}
