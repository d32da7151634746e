import type { ClientFrame, CommandType } from '@switchboard/protocol';
import { ClientErrorCode, SwitchboardError } from './errors.js';
import { deliverChecked, unparsed } from './frame-check.js';
import type { Dial, Link, LinkEvents } from './link.js';

/** Frames one command POST carries at most (the hub's limit, protocol §1.1). */
const MAX_FRAMES_PER_POST = 64;
/** What a link's failure looks like to the Client: a connection lost without a close frame. */
const ABNORMAL = 1006;

type Fetch = typeof fetch;

export interface SseLinkOptions {
  /** The fetch implementation. Default: `globalThis.fetch`. */
  readonly fetch?: Fetch | undefined;
}

/** The hub's HTTP base for a WebSocket URL: `wss://h/ws` → `https://h`. */
export function httpBase(url: string): string {
  const parsed = new URL(url);
  parsed.protocol = parsed.protocol === 'wss:' ? 'https:' : parsed.protocol === 'ws:' ? 'http:' : parsed.protocol;
  return `${parsed.origin}${parsed.pathname.replace(/\/ws$/, '')}`;
}

/**
 * Links to a hub over HTTP streaming, for networks that break WebSocket upgrades (protocol
 * §1.1): the connect frame opens `POST /sse`, whose response streams the hub's frames as
 * Server-Sent Events; every later frame goes out in a `POST /sse/cmd`, which any hub behind the
 * balancer hands to the one holding the stream. One POST is in flight at a time and carries
 * everything queued meanwhile, so frames keep their order across hubs without stickiness.
 */
export function sseLink(options: SseLinkOptions = {}): Dial {
  const found = options.fetch ?? (globalThis as { fetch?: Fetch }).fetch;
  if (!found) throw new SwitchboardError(ClientErrorCode.CLOSED, 'no fetch implementation', false);
  // Browsers refuse a fetch called as a method of anything but the window or worker scope.
  const fetcher: Fetch = (input, init) => found(input, init);
  return (url, events) => new SseLink(httpBase(url), fetcher, events);
}

class SseLink implements Link {
  readonly transport = 'sse';
  private readonly abort = new AbortController();
  private readonly asked = new Map<number, CommandType>();
  private queue: ClientFrame[] = [];
  private address: { s: string; k: string } | undefined;
  private posting = false;
  private opened = false;
  private done = false;
  private maxFrame = Number.POSITIVE_INFINITY;
  /** The hub's `close` event, when it closed the stream itself. */
  private closedBy: { code: number; reason: string } | undefined;

  constructor(
    private readonly base: string,
    private readonly fetcher: Fetch,
    private readonly events: LinkEvents,
  ) {
    // Nothing to wait for: the stream opens with the connect frame the Client sends on `open`
    // (on the next task: a link's events come only after its dial returned).
    setTimeout(() => {
      if (!this.done) events.open();
    }, 0);
  }

  send(asked: ClientFrame): SwitchboardError | undefined {
    // This link carries no delta decoder (it stays small for the pages that need it): a
    // subscription asking for deltas gets whole publications here.
    const frame = asked.t === 'sub' && asked.delta !== undefined ? { ...asked, delta: undefined } : asked;
    const size = JSON.stringify(frame).length;
    if (size > this.maxFrame) {
      return new SwitchboardError(
        ClientErrorCode.FRAME_TOO_LARGE,
        `${frame.t} frame over the hub's ${this.maxFrame} byte limit`,
        false,
      );
    }
    this.asked.set(frame.id, frame.t);
    if (!this.opened) {
      this.opened = true;
      void this.stream(frame);
    } else {
      this.queue.push(frame);
      void this.post();
    }
    return undefined;
  }

  limit(maxFrame: number): void {
    this.maxFrame = maxFrame;
  }

  close(): void {
    this.done = true;
    this.abort.abort();
  }

  private async stream(connect: ClientFrame): Promise<void> {
    try {
      const response = await this.fetcher(`${this.base}/sse`, {
        method: 'POST',
        body: JSON.stringify(connect),
        signal: this.abort.signal,
      });
      if (!response.ok || !response.body) return this.fail(ABNORMAL, `stream refused with ${response.status}`);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffered = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffered += decoder.decode(value, { stream: true });
        let end = buffered.indexOf('\n\n');
        while (end >= 0) {
          this.event(buffered.slice(0, end));
          buffered = buffered.slice(end + 2);
          end = buffered.indexOf('\n\n');
        }
      }
      this.fail(this.closedBy?.code ?? ABNORMAL, this.closedBy?.reason ?? 'stream ended');
    } catch (error) {
      this.fail(ABNORMAL, error instanceof Error ? error.message : String(error));
    }
  }

  /** One event: the stream's address, the hub's close, or a frame. Comments (heartbeats) have no data. */
  private event(block: string): void {
    let name = 'message';
    let data: string | undefined;
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) name = line.slice(7);
      else if (line.startsWith('data: ')) data = line.slice(6);
    }
    if (data === undefined || this.done) return;
    let value: unknown;
    try {
      value = JSON.parse(data);
    } catch {
      unparsed(this.events, 'not JSON');
      return;
    }
    const fields = value as { client?: unknown; key?: unknown; code?: unknown; reason?: unknown };
    if (name === 'stream' && typeof fields.client === 'string' && typeof fields.key === 'string') {
      this.address = { s: fields.client, k: fields.key };
      void this.post();
    } else if (name === 'close' && typeof fields.code === 'number') {
      this.closedBy = { code: fields.code, reason: String(fields.reason ?? '') };
    } else if (name === 'message') {
      deliverChecked(value, this.asked, this.events);
    }
  }

  /** Sends what is queued, one POST at a time; a refused POST ends the link (the Client reconnects and recovers). */
  private async post(): Promise<void> {
    if (this.posting || !this.address || this.queue.length === 0 || this.done) return;
    this.posting = true;
    const frames = this.queue.slice(0, MAX_FRAMES_PER_POST);
    this.queue = this.queue.slice(frames.length);
    try {
      const response = await this.fetcher(`${this.base}/sse/cmd`, {
        method: 'POST',
        body: JSON.stringify({ ...this.address, f: frames }),
        signal: this.abort.signal,
      });
      if (response.status !== 202) return this.fail(ABNORMAL, `commands refused with ${response.status}`);
    } catch (error) {
      return this.fail(ABNORMAL, error instanceof Error ? error.message : String(error));
    }
    this.posting = false;
    void this.post();
  }

  private fail(code: number, reason: string): void {
    if (this.done) return;
    this.done = true;
    this.abort.abort();
    this.events.close(code, reason);
  }
}
