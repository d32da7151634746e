import type { ClientFrame, ConnectResult, Position } from '@switchboard/protocol';
import type { Link, LinkEvents, LinkFrame, SwitchboardError } from '../../client-sdk/src/index.js';
import { waitFor } from '../support/wait.js';

export const CONNECT_RESULT: ConnectResult = { client: 'c-1', v: 1, ping: 25, maxFrame: 65_536 };

type Sent<T extends ClientFrame['t']> = Extract<ClientFrame, { t: T }>;

/**
 * A link in memory whose far end is the test: it records what the Client sends and hands the
 * Client whatever frames the test writes, as a hub would send them, synchronously.
 */
export class ScriptedLink implements Link {
  readonly sent: ClientFrame[] = [];
  opened = false;
  closed: { code: number; reason: string } | undefined;

  constructor(private readonly events: LinkEvents) {}

  send(frame: ClientFrame): SwitchboardError | undefined {
    this.sent.push(frame);
    return undefined;
  }

  limit(): void {}

  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }

  /** Opens and answers the Client's `connect`. */
  accept(result: ConnectResult = CONNECT_RESULT): void {
    this.opened = true;
    this.events.open();
    this.hub({ t: 'ok', id: this.last('connect').id, r: result });
  }

  /** Delivers a frame as if the hub sent it. */
  hub(frame: LinkFrame): void {
    this.events.frame(frame);
  }

  /** Answers the last `sub` of `channel` with `ok` and this result. */
  subscribed(channel: string, result: Position & { rec?: boolean; why?: string }): void {
    this.hub({ t: 'ok', id: this.lastSub(channel).id, r: result });
  }

  /** A push of `channel` at `off`; pushes carry no epoch (it is the subscription's), `_ep` only documents the test's intent. */
  msg(channel: string, _ep: string, off: number, d: unknown = off): void {
    this.hub({ t: 'msg', ch: channel, off, d });
  }

  /** The link closes under the Client, as a WebSocket does (1006: no close frame). */
  drop(code = 1006, reason = '', retryMs?: number): void {
    this.events.close(code, reason, retryMs);
  }

  frames<T extends ClientFrame['t']>(type: T): Sent<T>[] {
    return this.sent.filter((frame): frame is Sent<T> => frame.t === type);
  }

  last<T extends ClientFrame['t']>(type: T): Sent<T> {
    const frame = this.frames(type).at(-1);
    if (!frame) throw new Error(`the client sent no ${type}`);
    return frame;
  }

  lastSub(channel: string): Sent<'sub'> {
    const frame = this.frames('sub').findLast((sub) => sub.ch === channel);
    if (!frame) throw new Error(`the client sent no sub for ${channel}`);
    return frame;
  }

  /** The `sub` and `unsub` frames, as [t, ch, since?] for comparing. */
  subscriptions(): Array<[string, string, Position?]> {
    return this.sent.flatMap((frame): Array<[string, string, Position?]> => {
      if (frame.t === 'sub') return [frame.since ? ['sub', frame.ch, frame.since] : ['sub', frame.ch]];
      if (frame.t === 'unsub') return [['unsub', frame.ch]];
      return [];
    });
  }
}

/** Dials ScriptedLinks: pass `dial` as a Client's `link` option. */
export class ScriptedHub {
  readonly links: ScriptedLink[] = [];
  readonly dial = (_url: string, events: LinkEvents): ScriptedLink => {
    const link = new ScriptedLink(events);
    this.links.push(link);
    return link;
  };

  /** The first link not opened yet, once the Client has dialled it. */
  async link(): Promise<ScriptedLink> {
    const unopened = () => this.links.find((link) => !link.opened && !link.closed);
    await waitFor(() => unopened() !== undefined, 'the client to dial');
    return unopened() as ScriptedLink;
  }

  /** The next link, opened and connected. */
  async connected(): Promise<ScriptedLink> {
    const link = await this.link();
    link.accept();
    return link;
  }
}
