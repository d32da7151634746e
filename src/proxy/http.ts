import type { z } from 'zod';

/** What a backend answered: its validated body, or why there is none (for logs and the client's message). */
export type BackendAnswer<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: string };

export interface PostOptions {
  readonly timeoutMs: number;
  /** Largest response body read; a larger one is an invalid answer, read no further. */
  readonly maxBytes: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Abandons the request (its connection closed): the answer is then a reason, never awaited further. */
  readonly signal?: AbortSignal;
}

/**
 * POSTs `body` as JSON and reads the answer as `schema` says: the backends of proxy hooks and of
 * HTTP rpc routes. Never throws and never hangs: a refused connection, a timeout (the request is
 * aborted), a status other than 200, a body over `maxBytes`, and a body that is not JSON of the
 * schema's shape each come back as a reason. The hub awaits it without blocking anything else.
 */
export async function postJson<T>(
  url: string,
  body: unknown,
  options: PostOptions,
  schema: z.ZodType<T>,
): Promise<BackendAnswer<T>> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: JSON.stringify(body),
      signal,
      redirect: 'error',
    });
  } catch (error) {
    return { ok: false, reason: timeout.aborted ? `no answer within ${options.timeoutMs} ms` : reasonOf(error) };
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    return { ok: false, reason: `answered HTTP ${response.status}` };
  }
  let text: string | undefined;
  try {
    text = await readBounded(response, options.maxBytes);
  } catch (error) {
    return { ok: false, reason: timeout.aborted ? `no answer within ${options.timeoutMs} ms` : reasonOf(error) };
  }
  if (text === undefined) return { ok: false, reason: `answer over ${options.maxBytes} bytes` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'answer is not JSON' };
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `invalid answer: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? ''}` };
  }
  return { ok: true, value: parsed.data };
}

/** The body as text, or undefined once it grows past `maxBytes` (the rest is not read). */
async function readBounded(response: Response, maxBytes: number): Promise<string | undefined> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > maxBytes || !response.body) {
    await response.body?.cancel().catch(() => undefined);
    return declared > maxBytes ? undefined : '';
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function reasonOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
