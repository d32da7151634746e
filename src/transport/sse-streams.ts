import { timingSafeEqual } from 'node:crypto';
import { CloseCode } from '@switchboard/protocol';
import type { Session } from '../session/session.js';
import type { TopicPublisher } from '../streams/fanout.js';
import { type SseClientSocket, type SseTopics, sseEvent } from './sse-socket.js';

/**
 * An SSE comment every 15 s: proxies and balancers close a response that sent nothing for a
 * while (HAProxy's `timeout server` in the tests is 120 s; nginx's proxy_read_timeout is 60 s by
 * default; some mobile carriers cut at 30 s). Three bytes per stream per interval.
 */
export const HEARTBEAT_MS = 15_000;
const HEARTBEAT = new TextEncoder().encode(':\n\n');

/** What happens to a stream's session when it ends, as the WebSocket server does for its sockets. */
export interface SseOwner {
  closed(session: Session, socket: SseClientSocket, code: number): void;
}

/**
 * Every SSE stream of this hub: by connection id (so that a command POSTed to any hub reaches
 * it), and by transport topic. SSE responses cannot join uWS topics, so fan-out comes here too:
 * `publish` wraps the JSON push a channel stream encoded once in one event, once per
 * publication, and writes that same buffer to each SSE member — a write per member, as uWS'
 * own publish does per subscriber; no encoding per member (I1).
 */
export class SseStreams implements SseTopics, TopicPublisher {
  private readonly byId = new Map<string, SseClientSocket>();
  private readonly byTopic = new Map<string, Set<SseClientSocket>>();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    /** Native fan-out for WebSocket subscribers; SSE members are written here after it. */
    private readonly native: TopicPublisher,
    private readonly owner: SseOwner,
    private readonly heartbeatMs = HEARTBEAT_MS,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  start(): void {
    this.heartbeat = setInterval(() => {
      for (const socket of this.byId.values()) socket.write(HEARTBEAT);
    }, this.heartbeatMs);
    this.heartbeat.unref();
  }

  stop(): void {
    clearInterval(this.heartbeat);
  }

  add(session: Session, socket: SseClientSocket): void {
    this.byId.set(session.id, socket);
  }

  publish(topic: string, message: Uint8Array, isBinary: boolean): void {
    this.native.publish(topic, message, isBinary);
    const members = this.byTopic.get(topic);
    if (!members) return;
    const event = sseEvent(message);
    for (const member of members) member.write(event);
  }

  join(topic: string, socket: SseClientSocket): void {
    let members = this.byTopic.get(topic);
    if (!members) {
      members = new Set();
      this.byTopic.set(topic, members);
    }
    members.add(socket);
  }

  leave(topic: string, socket: SseClientSocket): void {
    const members = this.byTopic.get(topic);
    if (!members?.delete(socket)) return;
    if (members.size === 0) this.byTopic.delete(topic);
  }

  ended(socket: SseClientSocket, code: number): void {
    const { session } = socket;
    if (!session) return;
    if (this.byId.get(session.id) === socket) this.byId.delete(session.id);
    // Closing leaves every channel, and with it every topic (channel streams call `leave`).
    session.onClose();
    this.owner.closed(session, socket, code);
  }

  /**
   * Hands frames POSTed for connection `client` to its session, in order; false when this hub
   * holds no such stream or `key` is not its key (the same answer, so a guess learns nothing).
   */
  deliver(client: string, key: string, frames: readonly unknown[]): boolean {
    const socket = this.byId.get(client);
    if (!socket || socket.closed || !sameKey(socket.key, key)) return false;
    const session = socket.session as Session;
    for (const frame of frames) {
      if (session.isClosed) break;
      try {
        session.onMessage(Buffer.from(JSON.stringify(frame)));
      } catch {
        // Nothing a client sends may take the hub down; this one stream pays for it.
        session.close(CloseCode.INTERNAL, 'internal error');
      }
    }
    return true;
  }
}

function sameKey(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}
