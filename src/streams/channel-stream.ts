import {
  decodeData,
  encodeChannelName,
  type LostPush,
  type Position,
  type SubscribeResult,
  type WireFormat,
} from '@switchboard/protocol';
import type { PositionedPublication, Publication } from '../brokers/broker.js';
import { notAvailable } from '../errors.js';
import { sleep, within } from '../time.js';
import type { ChannelArchive } from './archive.js';
import { encodeFrame, encodePush, FORMATS, type FrameQueue, topicOf } from './fanout.js';
import { type Lane, Lanes, laneTopic, PLAIN } from './lanes.js';
import { type LossReason, type Reader, recover } from './recovery.js';

/** A socket as a stream sees it: its wire format, direct sends, and its transport topics. */
export interface StreamMember {
  readonly format: WireFormat;
  send(frame: Uint8Array): void;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
}

/** A `since` that stands for the start of whatever epoch the channel is in (`sub` with `start`). */
export const START: Position = { ep: '', off: 0 };

/** Why a history read was made, for the metric that counts them. */
export type ReadPurpose = 'start' | 'join' | 'repair' | 'check';

/** What a stream is told about its work, once per publication or per event, never per subscriber. */
export interface StreamObserver {
  delivered(subscribers: number, bytes: number, publication: Publication): void;
  /** A read of the broker: `history` when it asked for publications, else the top position alone. */
  read(purpose: ReadPurpose, history: boolean): void;
  repaired(outcome: 'repaired' | LossReason): void;
  /** Bytes that delta pushes of one publication saved against whole ones, over every delta member. */
  deltaSaved(bytes: number): void;
  recovery(recovered: boolean, reason: string | undefined): void;
}

/** What a stream needs of the node's registry (src/streams/streams.ts): one object for every stream. */
export interface StreamContext {
  readonly queue: FrameQueue;
  readonly observer: StreamObserver;
  /** Publications one join or one repair may read; more missing than that is not recovered. */
  maxRecovery(channel: string): number;
  /** The data field conflated lanes keep the latest value of per key (namespace `conflation.key`). */
  conflationKey(channel: string): string | undefined;
  reader(channel: string, purpose: ReadPurpose): Reader;
  /** Where what history trimmed can still be read (a namespace replaying from Kafka), if anywhere. */
  archive(channel: string): { readonly fetch: ChannelArchive; readonly timeoutMs: number } | undefined;
  /** The broker's delivery generation: bumped whenever delivery to this node was interrupted. */
  generation(): number;
  /** The last member left: the registry forgets the stream and the broker subscription. */
  release(stream: ChannelStream): void;
}

/** Publications held while a repair reads history; beyond this the oldest go and the repair runs again. */
const MAX_HELD = 10_000;
/** A join that keeps meeting repairs gives up with a temporary error rather than wait forever. */
const MAX_JOIN_ATTEMPTS = 5;
/**
 * How long a join waits for the stream to start or finish a repair, or for its own history read:
 * past it the `sub` gets the temporary 108, well before the client's own request timeout (10 s),
 * and the session's later subscriptions are not held up behind it.
 */
const JOIN_WAIT_MS = 5_000;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2_000;

type State = 'starting' | 'live' | 'syncing' | 'closed';

/**
 * One channel on one hub: the only way a socket joins or leaves the channel. It counts the
 * local members per wire format, owns the channel's transport topics, and knows the last
 * position it delivered here, so that:
 * - a publication is encoded once per wire format in use and handed to native fan-out (I1, docs/architecture.md);
 * - a join replays exactly what a resuming client missed, records what arrives meanwhile, and
 *   enters the topic in one synchronous step, with no gap and no duplicate;
 * - a gap in what reaches this hub (an offset skipped, an epoch changed, delivery interrupted)
 *   is repaired here, with one history read for the channel, before anything newer goes out;
 *   when history cannot supply it, every member gets one `lost` push instead of a silent gap.
 * Work is per publication and per channel; nothing here runs per member except a join.
 */
/**
 * What only a stream at work keeps: while it starts, repairs, or has joins in progress. Made on
 * demand and dropped when idle, so that a quiet channel holds none of it (seven fields, about
 * 60 B per channel, on a hub whose channels are mostly quiet).
 */
interface Work {
  /** Arrivals held while starting or repairing, in arrival order. */
  held: Publication[] | undefined;
  /** Joins in progress, so that one whose member left stops. */
  joining: Set<StreamMember> | undefined;
  /** Joins in progress: what the stream emits while they read history. */
  recordings: Set<Publication[]> | undefined;
  /** The start in progress, or how it failed. */
  started: Promise<void> | undefined;
  syncing: Promise<void> | undefined;
  syncAgain: boolean;
  /** `lost` pushes sent: a join that saw this change decides again. */
  losses: number;
}

export class ChannelStream {
  /** Publications fanned out here since the stream started (the admin view's rates). */
  published = 0;
  /** The delivery generation the last repair started in (streams.ts compares it after an outage). */
  syncedGeneration = 0;
  /**
   * Members per wire format. The members themselves are not kept: each session holds the channels
   * it joined and leaves each once (src/session/session.ts), which saves a set entry per
   * subscription; only joins in progress are kept, so that one that lost its member stops.
   */
  private msgpackMembers = 0;
  private jsonMembers = 0;
  /** Transport topic names, made with the first member of each format and shared by all. */
  private msgpackTopic: string | undefined;
  private jsonTopic: string | undefined;
  /** The channel's name as msgpack pushes carry it, encoded once. */
  private msgpackName: Uint8Array | undefined;
  /** Delta and rate lanes (lanes.ts), while a member is in one. */
  private lanes: Lanes | undefined;
  private state: State = 'starting';
  private last: Position | undefined;
  /** An offset the broker had that this hub had not delivered at the last position check. */
  private behind: number | undefined;
  private work: Work | undefined;

  constructor(
    readonly channel: string,
    private readonly context: StreamContext,
  ) {}

  get size(): number {
    return this.msgpackMembers + this.jsonMembers + (this.lanes?.size ?? 0);
  }

  // The fields of Work, read and written as if they were the stream's own.
  private get held(): Publication[] | undefined {
    return this.work?.held;
  }
  private set held(value: Publication[] | undefined) {
    this.setWork('held', value);
  }
  private get joining(): Set<StreamMember> | undefined {
    return this.work?.joining;
  }
  private set joining(value: Set<StreamMember> | undefined) {
    this.setWork('joining', value);
  }
  private get recordings(): Set<Publication[]> | undefined {
    return this.work?.recordings;
  }
  private set recordings(value: Set<Publication[]> | undefined) {
    this.setWork('recordings', value);
  }
  private get started(): Promise<void> | undefined {
    return this.work?.started;
  }
  private set started(value: Promise<void> | undefined) {
    this.setWork('started', value);
  }
  private get syncing(): Promise<void> | undefined {
    return this.work?.syncing;
  }
  private set syncing(value: Promise<void> | undefined) {
    this.setWork('syncing', value);
  }
  private get syncAgain(): boolean {
    return this.work?.syncAgain ?? false;
  }
  private set syncAgain(value: boolean) {
    this.setWork('syncAgain', value);
  }
  private get losses(): number {
    return this.work?.losses ?? 0;
  }
  private set losses(value: number) {
    this.setWork('losses', value);
  }

  /** Sets one field of the work state, making it when needed and dropping it once idle. */
  private setWork<K extends keyof Work>(key: K, value: Work[K]): void {
    this.work ??= {
      held: undefined,
      joining: undefined,
      recordings: undefined,
      started: undefined,
      syncing: undefined,
      syncAgain: false,
      losses: 0,
    };
    const work = this.work;
    work[key] = value;
    // Collections are set to undefined by their users once empty: present means in use.
    const idle = !work.held && !work.joining && !work.recordings && !work.started && !work.syncing && !work.syncAgain;
    if (idle) this.work = undefined;
  }

  /** The last position delivered here; undefined until the stream started. */
  get position(): Position | undefined {
    return this.last;
  }

  /** Begins once the broker delivers the channel here (`subscribed`): reads where the channel stands. */
  start(subscribed: Promise<void>): void {
    this.syncedGeneration = this.context.generation();
    this.started = this.begin(subscribed);
    // Joins waiting on it hear the failure; nothing else should.
    this.started.catch(() => undefined);
  }

  private async begin(subscribed: Promise<void>): Promise<void> {
    await subscribed;
    const { top } = await this.context.reader(this.channel, 'start')({ after: 0, limit: 0 });
    if (this.state === 'closed') return;
    this.last = top;
    this.state = 'live';
    this.started = undefined;
    this.releaseHeld();
  }

  /**
   * Adds `member` and answers its `sub` through `respond`: without `since`, where the channel
   * stands here; with it, whether what was missed follows. Then, in the same synchronous step, the
   * missed publications are sent to the member directly and it enters the topic — after the
   * reply, so that a client knows the epoch of every push it gets (protocol §4). Resolves with
   * the reply, or undefined when the member left meanwhile (nothing was answered).
   */
  async join(
    member: StreamMember,
    since: Position | undefined,
    respond: (result: SubscribeResult) => void,
    lane: Lane = PLAIN,
  ): Promise<SubscribeResult | undefined> {
    this.count(member.format, +1, lane);
    this.joining ??= new Set();
    this.joining.add(member);
    try {
      for (let attempt = 0; attempt < MAX_JOIN_ATTEMPTS; attempt++) {
        await within(this.settled(), JOIN_WAIT_MS, () => notAvailable('broker'));
        if (!this.joining.has(member)) return undefined;
        const from = since === START ? { ep: (this.last as Position).ep, off: 0 } : since;
        // A resume that may read what history trimmed from Kafka waits for that read too.
        const wait = JOIN_WAIT_MS + (this.context.archive(this.channel)?.timeoutMs ?? 0);
        const result = from
          ? await within(this.resume(member, from, respond, lane), wait, () => notAvailable('broker'))
          : this.enter(member, respond, [], lane);
        if (result !== 'again') return result;
      }
      throw notAvailable(`channel ${this.channel}`);
    } catch (error) {
      // A member that left meanwhile has no one to answer; otherwise it leaves with its refusal.
      if (!this.joining?.has(member)) return undefined;
      this.leave(member, lane);
      throw error;
    } finally {
      this.joining?.delete(member);
      if (this.joining?.size === 0) this.joining = undefined;
    }
  }

  /**
   * Removes a member that joined (or is joining) — once: the caller keeps track of what it
   * joined. The stream ends with its last member.
   */
  leave(member: StreamMember, lane: Lane = PLAIN): void {
    this.joining?.delete(member);
    member.unsubscribe(this.topic(member.format, lane));
    this.count(member.format, -1, lane);
    if (this.size > 0) return;
    this.state = 'closed';
    this.held = undefined;
    this.lanes?.stop();
    this.lanes = undefined;
    this.context.release(this);
  }

  /** A publication from the broker. */
  accept(publication: Publication): void {
    if (this.state !== 'live') {
      if (this.state !== 'closed') this.hold(publication);
      return;
    }
    const order = this.order(publication);
    if (order === 'next') this.emit(publication);
    else if (order === 'gap') {
      this.hold(publication);
      void this.sync();
    }
  }

  /**
   * Compares the broker's position with the one delivered here. A different epoch is repaired at
   * once; an offset ahead of this hub is given one check interval to arrive (it may be on its
   * way) and repaired if it still has not.
   */
  async check(): Promise<void> {
    if (this.state !== 'live') return;
    const last = this.last as Position;
    const { top } = await this.context.reader(this.channel, 'check')({ after: last.off, limit: 0 });
    if (this.state !== 'live' || this.last !== last) return;
    const lagging = this.behind !== undefined && last.off < this.behind;
    this.behind = top.ep === last.ep && top.off > last.off ? top.off : undefined;
    // The broker behind this hub in the same epoch lost acknowledged publications (a Redis
    // failover: replication is asynchronous); the repair reports them (`ahead_of_stream`).
    const regressed = top.ep === last.ep && top.off < last.off;
    if (top.ep !== last.ep || lagging || regressed) await this.sync();
  }

  /**
   * Repairs what may be missing after the last position delivered here: one history read, then
   * the missing publications in order, or one `lost` push when history cannot supply them; then
   * what arrived meanwhile. Concurrent requests share the repair in progress (one more round if
   * asked during it). A failed read is retried while the stream has members.
   */
  sync(): Promise<void> {
    if (this.state === 'closed' || this.state === 'starting') return this.started ?? Promise.resolve();
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.state = 'syncing';
    this.syncing = this.repairUntilDone().finally(() => {
      this.syncing = undefined;
      if (this.state !== 'syncing') return;
      this.state = 'live';
      this.releaseHeld();
    });
    return this.syncing;
  }

  /** How a publication relates to the last position delivered here. */
  private order(publication: Publication): 'next' | 'old' | 'gap' {
    const { position } = publication;
    if (!position) return 'next';
    const last = this.last as Position;
    if (position.ep !== last.ep) return 'gap';
    if (position.off <= last.off) return 'old';
    return position.off === last.off + 1 ? 'next' : 'gap';
  }

  /** Waits until the stream started and no repair runs; a failed start rejects (temporary error). */
  private async settled(): Promise<void> {
    try {
      await this.started;
    } catch {
      throw notAvailable('broker');
    }
    while (this.syncing) await this.syncing;
  }

  private async repairUntilDone(): Promise<void> {
    do {
      this.syncAgain = false;
      this.syncedGeneration = this.context.generation();
      for (let attempt = 1; this.state === 'syncing'; attempt++) {
        try {
          await this.repair();
          break;
        } catch {
          await sleep(Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt));
        }
      }
      // Arrivals held meanwhile go out while they follow; one that still does not starts another round.
      const rest = this.release(this.takeHeld());
      this.held = rest.length > 0 ? rest : undefined;
      if (rest.length > 0) this.syncAgain = true;
    } while (this.syncAgain && this.state === 'syncing');
  }

  private async repair(): Promise<void> {
    const from = this.last as Position;
    const outcome = await recover(
      from,
      this.context.reader(this.channel, 'repair'),
      this.context.maxRecovery(this.channel),
      this.context.archive(this.channel)?.fetch,
    );
    if (this.state !== 'syncing') return;
    if (!outcome.recovered) {
      this.lose(outcome.from, outcome.reason);
      this.context.observer.repaired(outcome.reason);
    } else if (outcome.replay.length > 0) {
      this.context.observer.repaired('repaired');
    }
    for (const publication of outcome.replay) this.emitIfNext(publication);
  }

  /** Hands held publications on in arrival order while they follow; returns the rest from the first gap. */
  private release(held: readonly Publication[]): Publication[] {
    for (let i = 0; i < held.length; i++) {
      const publication = held[i] as Publication;
      const order = this.order(publication);
      if (order === 'gap') return held.slice(i);
      if (order === 'next') this.emit(publication);
    }
    return [];
  }

  /** Outside a repair: releases what was held, and repairs when a gap remains. */
  private releaseHeld(): void {
    const rest = this.release(this.takeHeld());
    if (rest.length === 0) return;
    this.held = rest;
    void this.sync();
  }

  private takeHeld(): Publication[] {
    const held = this.held ?? [];
    this.held = undefined;
    return held;
  }

  private hold(publication: Publication): void {
    this.held ??= [];
    this.held.push(publication);
    // The oldest can go: they are in history, and the next repair reads them from there.
    if (this.held.length > MAX_HELD) this.held.splice(0, this.held.length - MAX_HELD);
  }

  private emitIfNext(publication: PositionedPublication): void {
    if (this.order(publication) === 'next') this.emit(publication);
  }

  private count(format: WireFormat, delta: number, lane: Lane): void {
    if (lane.rate || lane.delta) {
      const { context, channel } = this;
      this.lanes ??= new Lanes({
        channel,
        queue: context.queue,
        conflationKey: () => context.conflationKey(channel),
        msgpackName: () => this.name('msgpack'),
        deltaSaved: (bytes) => context.observer.deltaSaved(bytes),
      });
      this.lanes.count(lane, format, delta);
      if (this.lanes.size === 0) this.lanes = undefined;
    } else if (format === 'msgpack') this.msgpackMembers += delta;
    else this.jsonMembers += delta;
  }

  private members(format: WireFormat): number {
    return format === 'msgpack' ? this.msgpackMembers : this.jsonMembers;
  }

  private topic(format: WireFormat, lane: Lane = PLAIN): string {
    if (lane.rate || lane.delta) return laneTopic(lane, format, this.channel);
    if (format === 'msgpack') {
      this.msgpackTopic ??= topicOf('msgpack', this.channel);
      return this.msgpackTopic;
    }
    this.jsonTopic ??= topicOf('json', this.channel);
    return this.jsonTopic;
  }

  private name(format: WireFormat): Uint8Array | undefined {
    if (format !== 'msgpack') return undefined;
    this.msgpackName ??= encodeChannelName(this.channel);
    return this.msgpackName;
  }

  /** Fans a publication out to the members: one encoding per wire format in use. */
  private emit(publication: Publication): void {
    if (publication.position) this.last = publication.position;
    this.published += 1;
    if (this.recordings) for (const recording of this.recordings) recording.push(publication);
    let bytes = 0;
    // The data's JSON text, made once for the JSON flavour and the delta lanes together.
    let text: string | undefined;
    for (const format of FORMATS) {
      const count = this.members(format);
      if (count === 0) continue;
      if (format === 'json') text ??= JSON.stringify(decodeData(publication.data));
      const frame = encodePush(format, publication, this.name(format), text);
      this.context.queue.push(this.topic(format), frame, format === 'msgpack');
      bytes += frame.byteLength * count;
    }
    if (this.lanes)
      bytes += this.lanes.emit(publication, () => (text ??= JSON.stringify(decodeData(publication.data))));
    this.context.observer.delivered(this.size, bytes, publication);
  }

  /** Sends `frame` (a push other than a publication) to every member, encoded once per wire format. */
  announce(frame: object): void {
    if (this.state === 'closed') return;
    for (const format of FORMATS) {
      if (this.members(format) === 0) continue;
      this.context.queue.push(this.topic(format), encodeFrame(format, frame), format === 'msgpack');
    }
    this.lanes?.announce(frame);
  }

  /** Tells every member, once, that the publications up to `from` are lost; the stream continues after it. */
  private lose(from: Position, why: LossReason): void {
    this.last = from;
    this.losses += 1;
    this.lanes?.lost(from.off);
    const push: LostPush = { t: 'lost', ch: this.channel, ep: from.ep, off: from.off, why };
    this.announce(push);
  }

  /** Answers, sends `replay` directly, and enters the member into the topic: one synchronous step. */
  private enter(
    member: StreamMember,
    respond: (result: SubscribeResult) => void,
    replay: readonly Publication[],
    lane: Lane,
    result?: Omit<SubscribeResult, 'ep' | 'off'> & { readonly from?: Position },
  ): SubscribeResult {
    const at = result?.from ?? (this.last as Position);
    const reply: SubscribeResult = { ep: at.ep, off: at.off };
    if (result?.rec !== undefined) reply.rec = result.rec;
    if (result?.why !== undefined) reply.why = result.why;
    const lanes = lane === PLAIN ? undefined : this.lanes;
    if (lanes?.grantsDelta(lane)) reply.delta = 'fossil';
    if (lane.rate) reply.maxRate = lane.rate;
    respond(reply);
    const format = member.format;
    if (lanes) for (const frame of lanes.entry(lane, format, replay)) member.send(frame);
    else for (const publication of replay) member.send(encodePush(format, publication, this.name(format)));
    // Frames still queued for the topic were sent above or precede the reply's position.
    this.context.queue.flush();
    // A delta member's first patch applies to the text sent last on its topic.
    const base = lanes?.base(lane, format);
    if (base) member.send(base);
    member.subscribe(this.topic(format, lane));
    return reply;
  }

  /** A join with `since`: what it missed, from history and from what this stream emitted meanwhile. */
  private async resume(
    member: StreamMember,
    since: Position,
    respond: (result: SubscribeResult) => void,
    lane: Lane,
  ): Promise<SubscribeResult | 'again' | undefined> {
    const recording: Publication[] = [];
    this.recordings ??= new Set();
    this.recordings.add(recording);
    const losses = this.losses;
    try {
      const outcome = await recover(
        since,
        this.context.reader(this.channel, 'join'),
        this.context.maxRecovery(this.channel),
        this.context.archive(this.channel)?.fetch,
      );
      if (!this.joining?.has(member)) return undefined;
      if (this.state !== 'live' || this.losses !== losses) return 'again';
      const last = this.last as Position;
      if (outcome.top.ep !== last.ep) {
        // This hub has not seen the epoch change yet: repair first, so that the member and the
        // stream agree on where the new epoch starts.
        void this.sync();
        return 'again';
      }
      const liveOnly = recording.filter((publication) => !publication.position);
      const from = outcome.recovered ? since : outcome.from;
      const replayable = outcome.recovered || outcome.replay.length > 0;
      const replay = replayable ? missed(from, last, outcome.replay, recording) : [];
      if (replay === undefined) return 'again';
      this.context.observer.recovery(outcome.recovered, outcome.recovered ? undefined : outcome.reason);
      if (outcome.recovered) return this.enter(member, respond, [...replay, ...liveOnly], lane, { rec: true });
      return this.enter(member, respond, [...replay, ...liveOnly], lane, {
        rec: false,
        why: outcome.reason,
        ...(replayable ? { from } : {}),
      });
    } finally {
      this.recordings.delete(recording);
      if (this.recordings.size === 0) this.recordings = undefined;
    }
  }
}

/**
 * The publications after `from` up to `last`, from history and the recording together, each
 * once and in order; undefined when they do not make a whole run (the join decides again).
 */
function missed(
  from: Position,
  last: Position,
  history: readonly PositionedPublication[],
  recording: readonly Publication[],
): PositionedPublication[] | undefined {
  if (from.ep !== last.ep) return undefined;
  const byOffset = new Map<number, PositionedPublication>();
  for (const publication of [...history, ...recording]) {
    const position = publication.position;
    if (position && position.ep === last.ep && position.off > from.off && position.off <= last.off)
      byOffset.set(position.off, publication as PositionedPublication);
  }
  if (byOffset.size !== last.off - from.off) return undefined;
  return [...byOffset.values()].sort((a, b) => a.position.off - b.position.off);
}
