import type { HttpResponse } from 'uWebSockets.js';
import { isAborted } from './respond.js';

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
