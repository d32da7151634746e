import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  contentLengthProblem,
  handshakeProblem,
  headProblem,
  type RequestHead,
} from '../../../src/transport/handshake.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { rawHttp } from '../../support/raw-http.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

function head(headers: Record<string, string>, url = '/ws'): RequestHead {
  return {
    getHeader: (name) => headers[name] ?? '',
    getUrl: () => url,
    getQuery: () => undefined,
    forEach: (callback) => {
      for (const [key, value] of Object.entries(headers)) callback(key, value);
    },
  };
}

const handshake = {
  upgrade: 'websocket',
  connection: 'Upgrade',
  'sec-websocket-key': KEY,
  'sec-websocket-version': '13',
};

describe('handshake rules (RFC 6455 §4.2.1)', () => {
  it('accept a handshake as browsers send it, tokens in any case and position', () => {
    assert.equal(handshakeProblem(head(handshake)), undefined);
    assert.equal(
      handshakeProblem(head({ ...handshake, upgrade: 'WebSocket', connection: 'keep-alive, upgrade' })),
      undefined,
    );
  });

  it('answer another version with 426 naming version 13', () => {
    for (const version of ['8', '', '13, 8', '14']) {
      const problem = handshakeProblem(head({ ...handshake, 'sec-websocket-version': version }));
      assert.equal(problem?.status, '426 Upgrade Required');
      assert.deepEqual(problem?.headers, { 'sec-websocket-version': '13' });
    }
  });

  it('answer a missing Upgrade, Connection or valid key with 400', () => {
    for (const broken of [
      { ...handshake, upgrade: '' },
      { ...handshake, upgrade: 'h2c' },
      { ...handshake, connection: '' },
      { ...handshake, connection: 'keep-alive' },
      { ...handshake, 'sec-websocket-key': '' },
      { ...handshake, 'sec-websocket-key': 'short' },
      { ...handshake, 'sec-websocket-key': `${KEY}AAAA` },
    ]) {
      assert.equal(handshakeProblem(head(broken))?.status, '400 Bad Request', JSON.stringify(broken));
    }
  });

  it('count the request line and every header against the limit', () => {
    assert.equal(headProblem(head({ host: 'x' }), 1024), undefined);
    assert.equal(headProblem(head({ cookie: 'c'.repeat(2_000) }), 1024)?.status, '431 Request Header Fields Too Large');
    assert.equal(
      headProblem(head({ host: 'x' }, `/${'p'.repeat(2_000)}`), 1024)?.status,
      '431 Request Header Fields Too Large',
    );
  });

  it('refuse any declared body over the limit, however long its number', () => {
    assert.equal(contentLengthProblem('', 100), undefined);
    assert.equal(contentLengthProblem('100', 100), undefined);
    for (const length of ['101', '4294967296', '99999999999999999999999', '0000000000000000000101']) {
      assert.equal(contentLengthProblem(length, 100)?.status, '413 Payload Too Large', length);
    }
    assert.equal(contentLengthProblem('12x', 100)?.status, '400 Bad Request');
    assert.equal(contentLengthProblem('-1', 100)?.status, '400 Bad Request');
  });
});

describe('a hub on the wire', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startHub({ limits: { maxHttpHeaderBytes: 4096, maxHttpBodyBytes: 1024 } });
  });
  after(() => hub.stop());

  const upgrade = (extra: string[]) =>
    rawHttp(hub.port, ['GET /ws HTTP/1.1', 'Host: x', 'Sec-WebSocket-Protocol: switchboard.v2.json', ...extra]);

  it('switches protocols only for a handshake by the RFC', async () => {
    const good = [
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${KEY}`,
      'Sec-WebSocket-Version: 13',
    ];
    assert.equal((await upgrade(good))?.status, 101);
    const old = await upgrade([
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${KEY}`,
      'Sec-WebSocket-Version: 8',
    ]);
    assert.equal(old?.status, 426);
    assert.equal(old?.headers['sec-websocket-version'], '13');
    const bare = await upgrade([`Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13']);
    assert.equal(bare?.status, 400);
    assert.match(bare?.body ?? '', /Upgrade: websocket/);
  });

  it('answers oversized headers with 431, on upgrades and on every route', async () => {
    const cookie = `Cookie: ${'c'.repeat(60_000)}`;
    assert.equal(
      (
        await upgrade([
          'Upgrade: websocket',
          'Connection: Upgrade',
          `Sec-WebSocket-Key: ${KEY}`,
          'Sec-WebSocket-Version: 13',
          cookie,
        ])
      )?.status,
      431,
    );
    assert.equal((await rawHttp(hub.port, ['GET /healthz HTTP/1.1', 'Host: x', cookie]))?.status, 431);
    assert.equal((await rawHttp(hub.port, ['GET /healthz HTTP/1.1', 'Host: x']))?.status, 200);
  });

  it('answers a declared body over the limit with 413 before reading it, up to lengths the parser cannot hold', async () => {
    for (const length of ['2048', '4294967296', '99999999999999999999999']) {
      const response = await rawHttp(
        hub.port,
        ['POST /api/publish HTTP/1.1', 'Host: x', `Content-Length: ${length}`],
        '{"channel":',
      );
      assert.equal(response?.status, 413, length);
      assert.match(response?.body ?? '', /body over 1024 bytes/);
    }
    const nonsense = await rawHttp(hub.port, ['POST /api/publish HTTP/1.1', 'Host: x', 'Content-Length: 12x'], 'abc');
    assert.equal(nonsense?.status, 400);
  });
});
