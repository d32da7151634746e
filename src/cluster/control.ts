import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.js';
import type { ControlBus } from './bus.js';
import { type ClusterAnswer, type ClusterCommand, ControlMessage } from './commands.js';

/** Control messages larger than this are dropped unread (a `channels` answer of 1,000 names is ~260 KB). */
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** What the hubs answered to one command, and which did not answer in time. */
export interface Answers {
  /** Each answering hub's share, in arrival order. */
  readonly answers: ReadonlyArray<{ readonly hub: string; readonly answer: ClusterAnswer }>;
  /** Hubs that were alive when the command was sent. */
  readonly asked: readonly string[];
  /** Hubs asked that answered neither a share nor an error before the deadline. */
  readonly missing: readonly string[];
  /** Hubs whose run of the command failed, with why. */
  readonly failed: ReadonlyArray<{ readonly hub: string; readonly error: string }>;
}

interface Pending {
  readonly waitingFor: Set<string>;
  /** Hubs heard from: a second answer from one (a redelivered question) is ignored. */
  readonly heard: Set<string>;
  readonly answers: Array<{ hub: string; answer: ClusterAnswer }>;
  readonly failed: Array<{ hub: string; error: string }>;
  readonly asked: readonly string[];
  readonly done: (answers: Answers) => void;
  readonly timer: NodeJS.Timeout;
}

/** Runs a command on this hub's connections: the hub's share of the answer. */
export type RunLocally = (command: ClusterCommand) => ClusterAnswer | Promise<ClusterAnswer>;

/**
 * Asks hubs to run a command and gathers their answers until every hub alive at the time
 * answered, or the deadline passed; answers to other hubs' questions. Every question ends by
 * its deadline, and its timer with it.
 */
export class Control {
  private readonly pending = new Map<string, Pending>();
  private closed = false;

  constructor(
    private readonly bus: ControlBus,
    private readonly hubId: string,
    private readonly run: RunLocally,
    private readonly log: Logger,
  ) {}

  start(): Promise<void> {
    return this.bus.start(this.hubId, (message) => this.onMessage(message));
  }

  /** Live hubs, this one included. */
  hubs(): Promise<readonly string[]> {
    return this.bus.hubs();
  }

  /** Asks every live hub, or only `hub` (a command about one connection goes to the hub that holds it). */
  async ask(command: ClusterCommand, deadlineMs: number, hub?: string): Promise<Answers> {
    const live = await this.bus.hubs();
    const asked = hub === undefined ? live : live.filter((id) => id === hub);
    if (asked.length === 0 || this.closed) return { answers: [], asked, missing: [], failed: [] };
    const id = randomBytes(9).toString('base64url');
    const answered = new Promise<Answers>((done) => {
      const timer = setTimeout(() => this.finish(id), deadlineMs);
      this.pending.set(id, {
        waitingFor: new Set(asked),
        heard: new Set(),
        answers: [],
        failed: [],
        asked,
        done,
        timer,
      });
    });
    const message = JSON.stringify({ k: 'ask', id, from: this.hubId, command } satisfies ControlMessage);
    try {
      await (hub === undefined ? this.bus.broadcast(message) : this.bus.send(hub, message));
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'control message not sent');
      this.finish(id);
    }
    return answered;
  }

  /** Ends every question with what it has. */
  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.pending.keys()]) this.finish(id);
    await this.bus.close();
  }

  private finish(id: string): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    pending.done({
      answers: pending.answers,
      asked: pending.asked,
      missing: [...pending.waitingFor],
      failed: pending.failed,
    });
  }

  private onMessage(text: string): void {
    if (text.length > MAX_MESSAGE_BYTES) return;
    let parsed: ReturnType<typeof ControlMessage.safeParse>;
    try {
      parsed = ControlMessage.safeParse(JSON.parse(text));
    } catch {
      this.log.warn('dropped a control message that is not JSON');
      return;
    }
    if (!parsed.success) {
      this.log.warn('dropped a malformed control message');
      return;
    }
    const message = parsed.data;
    if (message.k === 'ask') void this.answer(message.id, message.from, message.command);
    else this.collect(message);
  }

  private async answer(id: string, to: string, command: ClusterCommand): Promise<void> {
    let reply: ControlMessage;
    try {
      reply = { k: 'answer', id, from: this.hubId, answer: await this.run(command) };
    } catch (error) {
      this.log.error({ err: error, command: command.c }, 'control command failed');
      reply = { k: 'answer', id, from: this.hubId, error: 'the command failed on this hub' };
    }
    if (this.closed) return;
    await this.bus.send(to, JSON.stringify(reply)).catch((error: unknown) => {
      this.log.warn({ err: (error as Error).message }, 'control answer not sent');
    });
  }

  private collect(message: Extract<ControlMessage, { k: 'answer' }>): void {
    const pending = this.pending.get(message.id);
    if (!pending || pending.heard.has(message.from)) return;
    pending.heard.add(message.from);
    pending.waitingFor.delete(message.from);
    if (message.answer) pending.answers.push({ hub: message.from, answer: message.answer });
    else pending.failed.push({ hub: message.from, error: message.error ?? 'no answer' });
    if (pending.waitingFor.size === 0) this.finish(message.id);
  }
}
