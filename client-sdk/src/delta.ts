import { bytesOfPatch, DeltaKind, type DeltaPush, type PublicationPush } from '@switchboard/protocol';
import { applyDelta, getDeltaTargetSize } from 'fossil-delta';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * What a link holds of its delta subscriptions (protocol §3.3): per channel, the text of the last
 * `dmsg`, which the next patch applies to. Kept per link, because each link's subscription has its
 * own lane on its hub; a `sub` reply with `delta` is always followed by a whole text (a replay or a
 * base) before any patch, so a stale base is replaced before it is used.
 */
export class DeltaBases {
  private readonly bases = new Map<string, Uint8Array>();

  /**
   * The publication a delta push carries; undefined for a base (nothing to deliver); a string
   * saying why when it cannot be read (no base, a patch that does not apply): the subscription's
   * state is then unknown and the link must start over.
   */
  resolve(push: DeltaPush, maxBytes: number): PublicationPush | undefined | string {
    let text: string;
    let bytes: Uint8Array;
    if (push.k === DeltaKind.PATCH) {
      const base = this.bases.get(push.ch);
      const patch = bytesOfPatch(push.s);
      if (!base || !patch) return base ? 'delta: not a byte string' : 'delta: no base to apply it to';
      try {
        // The patch states its output's size: refused past the limit before any work.
        if (getDeltaTargetSize(patch) > maxBytes) return 'delta: output over the frame limit';
        bytes = applyDelta(base, patch);
        text = utf8Decoder.decode(bytes);
      } catch {
        this.bases.delete(push.ch);
        return 'delta: does not apply';
      }
    } else {
      text = push.s;
      bytes = utf8Encoder.encode(text);
    }
    this.bases.set(push.ch, bytes);
    if (push.k === DeltaKind.BASE) return undefined;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return 'delta: not JSON';
    }
    return push.off === undefined
      ? { t: 'msg', ch: push.ch, d: data }
      : { t: 'msg', ch: push.ch, off: push.off, d: data };
  }
}
