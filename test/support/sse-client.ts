import { fromWire } from '@switchboard/protocol';
import { waitFor } from './wait.js';

/** One Server-Sent Event as the stream carried it. */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

type Frame = { readonly t: string; readonly [key: string]: unknown };

/**
 * A client of a hub's SSE endpoint over fetch, as a test sees it: the events and the frames in
 * them, the stream's address, and its commands POSTed to any hub (`via`).
 */
export class SseTestClient {
  readonly events: SseEvent[] = [];
  readonly frames: Frame[] = [];
  client = '';
  key = '';
  /** The `close` event's code, once the hub closed the stream. */
  closeCode: number | undefined;
  ended = false;
  private nextId = 100;

  private constructor(
    readonly status: number,
    private readonly abort: AbortController,
  ) {}

  /** Opens `url` (GET, or POST with `body`); resolves once the hub answered with its headers. */
  static async open(
    url: string,
    init: { body?: string; headers?: Record<string, string> } = {},
  ): Promise<SseTestClient> {
    const abort = new AbortController();
    const response = await fetch(url, {
      method: init.body === undefined ? 'GET' : 'POST',
      ...(init.body === undefined ? {} : { body: init.body }),
      headers: init.headers ?? {},
      signal: abort.signal,
    });
    const client = new SseTestClient(response.status, abort);
    if (response.ok && response.body) void client.read(response.body);
    else client.ended = true;
    return client;
  }

  /** Opens a stream and waits for its address. */
  static async connected(
    url: string,
    init: { body?: string; headers?: Record<string, string> } = {},
  ): Promise<SseTestClient> {
    const client = await SseTestClient.open(url, init);
    if (client.status !== 200) throw new Error(`stream refused with ${client.status}`);
    await waitFor(() => client.client !== '', 'the stream event');
    return client;
  }

  /** Publication pushes of `channel`, as [offset, data]. */
  publications(channel: string): Array<[number | undefined, unknown]> {
    return this.frames
      .filter((frame) => frame.t === 'msg' && frame.ch === channel)
      .map((frame) => [frame.off as number | undefined, frame.d]);
  }

  reply(id: number): Frame | undefined {
    return this.frames.find((frame) => (frame.t === 'ok' || frame.t === 'err') && frame.id === id);
  }

  /** POSTs `frames` (ids given where missing) to `base`'s command endpoint; resolves with the HTTP answer. */
  async post(
    base: string,
    frames: object[],
    key = this.key,
  ): Promise<{ status: number; body: unknown; ids: number[] }> {
    const ids: number[] = [];
    const withIds = frames.map((frame) => {
      const id = 'id' in frame ? (frame.id as number) : this.nextId++;
      ids.push(id);
      return { ...frame, id };
    });
    const response = await fetch(`${base}/sse/cmd`, {
      method: 'POST',
      body: JSON.stringify({ s: this.client, k: key, f: withIds }),
    });
    return { status: response.status, body: await response.json(), ids };
  }

  /** Sends one request through `base` and waits for its reply on the stream. */
  async request(base: string, frame: object): Promise<Frame> {
    const { status, ids } = await this.post(base, [frame]);
    if (status !== 202) throw new Error(`command refused with ${status}`);
    const id = ids[0] as number;
    await waitFor(() => this.reply(id) !== undefined, `the reply to ${JSON.stringify(frame)}`);
    return this.reply(id) as Frame;
  }

  close(): void {
    this.abort.abort();
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = '';
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value: chunk } = await reader.read();
        if (done) break;
        buffered += decoder.decode(chunk, { stream: true });
        let end = buffered.indexOf('\n\n');
        while (end >= 0) {
          this.take(buffered.slice(0, end));
          buffered = buffered.slice(end + 2);
          end = buffered.indexOf('\n\n');
        }
      }
    } catch {
      // Aborted by close(), or the hub went away.
    }
    this.ended = true;
  }

  private take(block: string): void {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length === 0) return;
    const text = data.join('\n');
    this.events.push({ event, data: text });
    const value = JSON.parse(text) as Record<string, unknown>;
    if (event === 'stream') {
      this.client = value.client as string;
      this.key = value.key as string;
    } else if (event === 'close') {
      this.closeCode = value.code as number;
    } else {
      this.frames.push(fromWire(value) as Frame);
    }
  }
}
