import { randomBytes } from 'node:crypto';
import type { RedisCommands as Redis } from '../brokers/redis-store.js';

/**
 * Short-lived single-use tickets: what a browser puts in an SSE URL instead of its token
 * (EventSource cannot send a header). Whatever the ticket stands for (the connect frame, token
 * included) stays in the store the hubs share, so the hub that takes the stream need not be the
 * one that issued the ticket: no sticky sessions. Taking a ticket deletes it in the same step,
 * so two hubs cannot both redeem it.
 */
export interface TicketStore {
  /** Keeps `value` under a new ticket for `ttlMs`; resolves with the ticket. */
  issue(value: string, ttlMs: number): Promise<string>;
  /** The value of `ticket`, removed; undefined when unknown, taken or expired. */
  take(ticket: string): Promise<string | undefined>;
  close(): void;
}

/** 144 random bits, base64url: unguessable, and short enough for any URL. */
export function newTicket(): string {
  return randomBytes(18).toString('base64url');
}

/** What a ticket may look like; anything else is refused without asking the store. */
export const TICKET_PATTERN = /^[A-Za-z0-9_-]{24}$/;

/** The embedded broker's tickets: one hub, one map, swept as tickets are issued. */
export class MemoryTicketStore implements TicketStore {
  private readonly tickets = new Map<string, { readonly value: string; readonly expiresAt: number }>();

  async issue(value: string, ttlMs: number): Promise<string> {
    const now = Date.now();
    // Expired tickets go as new ones come, oldest first up to the first still valid: the hub issues
    // every ticket with one ttl, so the map holds at most what was issued within it.
    for (const [ticket, entry] of this.tickets) {
      if (entry.expiresAt > now) break;
      this.tickets.delete(ticket);
    }
    const ticket = newTicket();
    this.tickets.set(ticket, { value, expiresAt: now + ttlMs });
    return ticket;
  }

  async take(ticket: string): Promise<string | undefined> {
    const entry = this.tickets.get(ticket);
    this.tickets.delete(ticket);
    return entry && entry.expiresAt > Date.now() ? entry.value : undefined;
  }

  close(): void {
    this.tickets.clear();
  }
}

/** Tickets in Redis: one key each, with its expiry; taken with GET and DEL in one transaction. */
export class RedisTicketStore implements TicketStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(ticket: string): string {
    return `${this.prefix}!ticket:${ticket}`;
  }

  async issue(value: string, ttlMs: number): Promise<string> {
    const ticket = newTicket();
    await this.redis.set(this.key(ticket), value, 'PX', ttlMs);
    return ticket;
  }

  async take(ticket: string): Promise<string | undefined> {
    // GETDEL: read and removed in one command, so a ticket is given back once (Redis ≥ 6.2).
    const value = await this.redis.getdel(this.key(ticket));
    return value ?? undefined;
  }

  close(): void {}
}
