import type { HttpResponse } from 'uWebSockets.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Session } from '../../../src/session/session.js';
import { SseClientSocket } from '../../../src/transport/sse-socket.js';
import { SseStreams } from '../../../src/transport/sse-streams.js';

/** An HTTP response that records what is written to it and accepts writes while `accepting`. */
function fakeResponse() {
  const state = {
    writes: [] as Uint8Array[],
    ended: undefined as string | undefined,
    accepting: true,
    writable: undefined as (() => boolean) | undefined,
  };
  const res = {
    cork: (run: () => void) => run(),
    write: (chunk: Uint8Array) => {
      state.writes.push(chunk);
      return state.accepting;
    },
    end: (chunk?: Uint8Array) => {
      state.ended = chunk ? new TextDecoder().decode(chunk) : '';
    },
    onWritable: (handler: () => boolean) => {
      state.writable = handler;
    },
  };
  return { res: res as unknown as HttpResponse, state };
}

function setup(hardLimit = 1_000_000, heartbeatMs?: number) {
  const native: Array<[string, Uint8Array]> = [];
  const closed: number[] = [];
  const streams = new SseStreams(
    { publish: (topic, message) => native.push([topic, message]) },
    { closed: (_session, _socket, code) => closed.push(code) },
    heartbeatMs,
  );
  const member = (n: number) => {
    const { res, state } = fakeResponse();
    const socket = new SseClientSocket(res, streams, '127.0.0.1', `key-${n}`, hardLimit, undefined);
    const session = { id: `hub.${n}`, onClose: () => undefined } as unknown as Session;
    socket.session = session;
    streams.add(session, socket);
    return { socket, state };
  };
  return { streams, native, closed, member };
}

const frame = new TextEncoder().encode('["news",1,{"a":1}]');

describe('SseStreams: fan-out to SSE members', () => {
  it('publishes natively once, frames the push as an event once, and writes that same buffer to every member', () => {
    const { streams, native, member } = setup();
    const members = [member(1), member(2), member(3)];
    for (const { socket } of members) socket.subscribe('j:news');
    streams.publish('j:news', frame, false);
    assert.equal(native.length, 1);
    const written = members.map(({ state }) => state.writes.at(-1));
    assert.equal(new TextDecoder().decode(written[0]), 'data: ["news",1,{"a":1}]\n\n');
    assert.ok(
      written.every((bytes) => bytes === written[0]),
      'one buffer for every member: no per-member encoding',
    );
  });

  it('writes nothing for a topic without SSE members, and forgets a member that left', () => {
    const { streams, member } = setup();
    const { socket, state } = member(1);
    socket.subscribe('j:news');
    socket.unsubscribe('j:news');
    streams.publish('j:news', frame, false);
    streams.publish('m:news', frame, true);
    assert.equal(state.writes.length, 0);
  });
});

describe('SseStreams: heartbeats', () => {
  it('writes an SSE comment to every stream each interval, so that proxies keep quiet streams open', async () => {
    const { streams, member } = setup(1_000_000, 20);
    const { state } = member(1);
    streams.start();
    await new Promise((resolve) => setTimeout(resolve, 70));
    streams.stop();
    const comments = state.writes.filter((bytes) => new TextDecoder().decode(bytes) === ':\n\n');
    assert.ok(comments.length >= 2, `${comments.length} heartbeats in 70 ms at 20 ms`);
    const after = state.writes.length;
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal(state.writes.length, after, 'none once stopped');
  });
});

describe('SseClientSocket: backpressure as the WebSocket transport applies it', () => {
  it('counts what is written while uWS holds bytes back, until the response is writable again', () => {
    const { member } = setup();
    const { socket, state } = member(1);
    socket.send(frame);
    assert.equal(socket.bufferedAmount(), 0);
    state.accepting = false;
    socket.send(frame);
    socket.send(frame);
    assert.equal(socket.bufferedAmount(), 2 * (frame.byteLength + 8));
    state.writable?.();
    assert.equal(socket.bufferedAmount(), 0);
  });

  it('ends a stream queued over its hard limit at once with a close event 4001, and its session with it', () => {
    const { member, closed } = setup(100);
    const { socket, state } = member(1);
    state.accepting = false;
    for (let i = 0; i < 10 && !socket.closed; i++) socket.send(frame);
    assert.equal(socket.closed, true);
    assert.equal(state.ended, 'event: close\ndata: {"code":4001,"reason":"slow consumer"}\n\n');
    assert.deepEqual(closed, [4001]);
    socket.send(frame);
    assert.equal(socket.bufferedAmount(), 0);
  });

  it('answers a command only with the stream’s own key', () => {
    const { streams, member } = setup();
    member(1);
    assert.equal(streams.deliver('hub.1', 'key-2', []), false);
    assert.equal(streams.deliver('hub.9', 'key-1', []), false);
    assert.equal(streams.deliver('hub.1', 'key-1', []), true);
  });
});
