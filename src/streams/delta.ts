import {
  DeltaKind,
  encodeDeltaPushJson,
  encodeDeltaPushMsgpack,
  patchText,
  type WireFormat,
} from '@switchboard/protocol';
import { createDelta } from 'fossil-delta';
import { FORMATS, topicOf } from './fanout.js';

const utf8 = new TextEncoder();

/** A frame for one topic, as the frame queue takes it. */
export type TopicFrame = readonly [topic: string, frame: Uint8Array, binary: boolean];

/**
 * The delta lanes of one channel on one hub: the members that asked for fossil deltas
 * (protocol §3.3), counted per wire format, each format with a topic of its own, and the JSON text
 * of the last publication sent there, which every member of the lanes holds as its base. Each
 * publication is diffed once against that base and encoded once per wire format, however many
 * members the lanes have (I1, docs/architecture.md); made with the channel's first delta member
 * and dropped with its last, so a channel without one pays nothing.
 *
 * Why the text and not the msgpack bytes: a client holds data decoded, and a msgpack encoder on
 * its side need not write the hub's bytes again; the JSON text travels as a string and comes back
 * the same in both wire formats.
 */
export class DeltaLanes {
  private msgpackMembers = 0;
  private jsonMembers = 0;
  /** UTF-8 of the last text sent on the lanes, and the text itself: undefined after a loss. */
  private base: Uint8Array | undefined;
  private baseText: string | undefined;
  /** Bytes the patches saved against full texts, for the metric (after every publication). */
  saved = 0;

  constructor(
    private readonly channel: string,
    private readonly msgpackName: () => Uint8Array | undefined,
  ) {}

  get size(): number {
    return this.msgpackMembers + this.jsonMembers;
  }

  count(format: WireFormat, delta: number): void {
    if (format === 'msgpack') this.msgpackMembers += delta;
    else this.jsonMembers += delta;
  }

  members(format: WireFormat): number {
    return format === 'msgpack' ? this.msgpackMembers : this.jsonMembers;
  }

  topic(format: WireFormat): string {
    return topicOf(format, this.channel, true);
  }

  /**
   * The frames of one publication for the formats in use: a patch against the base when that is
   * shorter than the text, else the text; either way the text becomes the base. `text` is the
   * data's JSON text, made once per publication by the stream.
   */
  frames(off: number | undefined, text: string): TopicFrame[] {
    const bytes = utf8.encode(text);
    let kind: DeltaKind = DeltaKind.FULL;
    let carried = text;
    if (this.base) {
      const patch = createDelta(this.base, bytes);
      // A patch only pays when it is shorter: a wholly new document would cost its text and more.
      if (patch.length < bytes.length) {
        kind = DeltaKind.PATCH;
        carried = patchText(patch);
        this.saved = bytes.length - patch.length;
      } else this.saved = 0;
    } else this.saved = 0;
    this.base = bytes;
    this.baseText = text;
    const frames: TopicFrame[] = [];
    for (const format of FORMATS) {
      if (this.members(format) === 0) continue;
      frames.push([this.topic(format), this.encode(format, off, kind, carried), format === 'msgpack']);
    }
    return frames;
  }

  /**
   * What a member entering the lanes is sent before anything on the topic: the base every member
   * holds, so that the next patch applies. Undefined when the next publication goes whole anyway.
   */
  baseFrame(format: WireFormat): Uint8Array | undefined {
    if (this.baseText === undefined) return undefined;
    return this.encode(format, undefined, DeltaKind.BASE, this.baseText);
  }

  /** A full push to one member (a replay on join): it also becomes that member's base. */
  fullFrame(format: WireFormat, off: number | undefined, text: string): Uint8Array {
    return this.encode(format, off, DeltaKind.FULL, text);
  }

  /** Publications were lost: the next one goes whole, since nobody can be sure what it follows. */
  reset(): void {
    this.base = undefined;
    this.baseText = undefined;
  }

  private encode(format: WireFormat, off: number | undefined, kind: DeltaKind, text: string): Uint8Array {
    if (format === 'json') return encodeDeltaPushJson(this.channel, off, kind, text);
    return encodeDeltaPushMsgpack(this.msgpackName() as Uint8Array, off, kind, text);
  }
}
