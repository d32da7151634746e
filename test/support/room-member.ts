import { type ConnectResult, codecs, decodeServerFrame, SUBPROTOCOLS } from '@switchboard/protocol';
import WebSocket from 'ws';

const codec = codecs.msgpack;

/**
 * A cheap member of a big room: it connects, subscribes, and then only counts the frames it
 * receives without decoding them (a room of 2,000 gets megabytes of presence pushes; decoding
 * them all would make the test process the bottleneck). Replies are decoded until subscribed.
 */
export class RoomMember {
  /** The connection id the hub gave it. */
  client = '';
  /** The hub that serves it (ConnectResult.node). */
  node = '';
  /** Frames received after the subscription was made (presence pushes in a quiet room). */
  pushes = 0;
  closed = false;

  private constructor(private readonly ws: WebSocket) {
    ws.on('close', () => {
      this.closed = true;
    });
  }

  /** Connects with `token` through `url` and subscribes to `channel`; resolves once subscribed. */
  static join(url: string, token: string, channel: string): Promise<RoomMember> {
    const ws = new WebSocket(url, SUBPROTOCOLS.msgpack);
    ws.binaryType = 'arraybuffer';
    const member = new RoomMember(ws);
    return new Promise((resolve, reject) => {
      let step: 'connect' | 'sub' | 'live' = 'connect';
      const timer = setTimeout(() => reject(new Error(`no subscription within 20 s (${step})`)), 20_000);
      ws.once('error', reject);
      ws.once('close', (code) => step !== 'live' && reject(new Error(`closed with ${code} during ${step}`)));
      ws.once('open', () => ws.send(codec.encode({ t: 'connect', id: 1, token })));
      ws.on('message', (data: ArrayBuffer) => {
        if (step === 'live') {
          member.pushes += 1;
          return;
        }
        const decoded = decodeServerFrame(codec, new Uint8Array(data));
        if (decoded.kind !== 'frame') return reject(new Error(`undecodable frame: ${decoded.reason}`));
        const frame = decoded.frame;
        if (frame.t === 'err') return reject(new Error(`${step} refused: ${frame.code} ${frame.msg}`));
        if (frame.t !== 'ok') return;
        if (step === 'connect') {
          const result = frame.r as ConnectResult;
          member.client = result.client;
          member.node = result.node ?? '';
          step = 'sub';
          ws.send(codec.encode({ t: 'sub', id: 2, ch: channel }));
        } else {
          step = 'live';
          clearTimeout(timer);
          resolve(member);
        }
      });
    });
  }

  close(): void {
    this.ws.close();
  }

  /** Drops the connection without a close handshake, as a crashed browser would. */
  terminate(): void {
    this.ws.terminate();
  }
}
