import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lightCodecs, msgpackCodec } from '@switchboard/protocol';
import {
  Client,
  ClientErrorCode,
  type Link,
  type LinkFrame,
  type SwitchboardError,
  type WebSocketLike,
  webSocketLink,
} from '../../client-sdk/src/index.js';
import { waitFor } from '../support/wait.js';

/**
 * A WebSocket as strict as a browser's about close(): a code other than 1000 or 3000–4999 throws
 * InvalidAccessError, a reason over 123 UTF-8 bytes throws SyntaxError. `fail` makes every
 * connection fail (1006), like one to a hub that is down; otherwise a test plays the hub.
 */
class StrictSocket implements WebSocketLike {
  static readonly made: StrictSocket[] = [];
  static fail = true;
  binaryType = 'blob';
  readonly protocol = '';
  readonly sent: Array<string | Uint8Array> = [];
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  closedWith: [number, string] | undefined;

  constructor() {
    StrictSocket.made.push(this);
    if (StrictSocket.fail)
      setTimeout(() => {
        this.onerror?.({});
        this.onclose?.({ code: 1006, reason: '' });
      }, 1);
  }

  send(data: string | Uint8Array): void {
    this.sent.push(data);
  }

  close(code = 1000, reason = ''): void {
    if (code !== 1000 && (code < 3000 || code > 4999)) throw new Error(`InvalidAccessError: ${code}`);
    if (new TextEncoder().encode(reason).byteLength > 123) throw new Error('SyntaxError: reason too long');
    this.closedWith = [code, reason];
  }

  /** A binary message, as `binaryType = 'arraybuffer'` delivers it. */
  receive(bytes: Uint8Array): void {
    this.onmessage?.({ data: new Uint8Array(bytes).buffer });
  }
}

/** A link on a StrictSocket the test plays the hub on, with what it handed the Client. */
function linked() {
  StrictSocket.fail = false;
  const frames: LinkFrame[] = [];
  const problems: SwitchboardError[] = [];
  const ignore = () => {};
  const link = webSocketLink({ WebSocket: StrictSocket })('ws://hub.invalid/ws', {
    open: ignore,
    frame: (frame) => frames.push(frame),
    problem: (error) => problems.push(error),
    close: ignore,
  }) as Link;
  const socket = StrictSocket.made.at(-1) as StrictSocket;
  return { link, socket, frames, problems };
}

describe('the WebSocket link', () => {
  it('keeps a client reconnecting after connections that fail with 1006', async () => {
    StrictSocket.fail = true;
    StrictSocket.made.length = 0;
    const client = new Client('ws://hub.invalid/ws', { WebSocket: StrictSocket, backoff: { initialMs: 1, maxMs: 5 } });
    let disconnects = 0;
    client.on('disconnected', () => disconnects++);
    client.connect();
    try {
      await waitFor(() => disconnects >= 3 && StrictSocket.made.length >= 3, 'three failed attempts');
      assert.deepEqual(StrictSocket.made[0]?.closedWith, [1000, '']);
    } finally {
      client.close();
    }
  });

  it('shortens a close reason to 123 UTF-8 bytes, on a character boundary', () => {
    const { link, socket } = linked();
    link.close(4000, 'é'.repeat(100));
    assert.deepEqual(socket.closedWith, [4000, 'é'.repeat(61)]);
  });

  it('hands over the frames the hub sends, decoded', () => {
    const { socket, frames } = linked();
    const push = { t: 'msg', ch: 'news', ep: 'e', off: 42, d: { title: 'hello' } } as const;
    socket.receive(msgpackCodec.encode(push));
    assert.deepEqual(frames, [push]);
  });

  it('reports and ignores a message that is not a frame of protocol v2', () => {
    const { socket, frames, problems } = linked();
    socket.receive(msgpackCodec.encode({ t: 'nonsense' }));
    socket.receive(msgpackCodec.encode(['x', 'one', 1]));
    socket.receive(new Uint8Array([0xc1]));
    assert.deepEqual(frames, []);
    assert.deepEqual(
      problems.map((problem) => [problem.code, problem.message]),
      [
        [ClientErrorCode.BAD_FRAME, 'ignored a bad frame: t: unknown frame type'],
        [ClientErrorCode.BAD_FRAME, 'ignored a bad frame: off: invalid'],
        [ClientErrorCode.BAD_FRAME, 'ignored a bad frame: byte 0xc1 is not msgpack'],
      ],
    );
  });

  it('refuses msgpack outside the protocol subset before decoding it', () => {
    const { socket, frames, problems } = linked();
    // {t: 'msg', ch: 'x', d: <bin 8 of one byte>}
    const withBinary = [
      0x83, 0xa1, 0x74, 0xa3, 0x6d, 0x73, 0x67, 0xa2, 0x63, 0x68, 0xa1, 0x78, 0xa1, 0x64, 0xc4, 0x01, 0x00,
    ];
    socket.receive(new Uint8Array(withBinary));
    assert.deepEqual(frames, []);
    assert.match(problems[0]?.message ?? '', /binary values are not part of the protocol/);
  });

  it('turns an ok whose result does not fit its request into an error reply to that request', () => {
    const { link, socket, frames } = linked();
    assert.equal(link.send({ t: 'pub', id: 3, ch: 'c', d: 1 }), undefined);
    socket.receive(msgpackCodec.encode({ t: 'ok', id: 3, r: { off: 'seven' } }));
    assert.deepEqual(frames, [{ t: 'err', id: 3, code: ClientErrorCode.BAD_FRAME, msg: 'malformed reply to pub' }]);
  });

  it('sends frames in the negotiated format', () => {
    const { link, socket } = linked();
    link.send({ t: 'sub', id: 1, ch: 'news', since: { ep: 'e', off: 2 } });
    const [bytes] = socket.sent;
    assert.ok(bytes instanceof Uint8Array);
    assert.deepEqual(lightCodecs.msgpack.parse(bytes), { t: 'sub', id: 1, ch: 'news', since: { ep: 'e', off: 2 } });
  });

  it("refuses to send a frame over the hub's limit, or data msgpack cannot carry", () => {
    const { link, socket } = linked();
    link.limit(64);
    assert.equal(link.send({ t: 'pub', id: 1, ch: 'c', d: 'x'.repeat(100) })?.code, ClientErrorCode.FRAME_TOO_LARGE);
    assert.equal(link.send({ t: 'pub', id: 2, ch: 'c', d: 10n })?.code, ClientErrorCode.BAD_FRAME);
    assert.deepEqual(socket.sent, []);
  });
});
