import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseEnvelope } from '../../../src/brokers/redis-envelope.js';

const batch = (header: string, items: Array<[string, string]>) =>
  Buffer.concat([
    Buffer.from(header, 'latin1'),
    ...items.map(([trace, data]) => Buffer.from(`${trace.length}:${trace}${data.length}:${data}`, 'latin1')),
  ]);

describe('broker envelopes on Redis pub/sub', () => {
  it('reads one publication: position, time, trace and data as a view of the message', () => {
    const message = Buffer.from('AbCdEfGh:7:1700000000000:00-aa-bb-01:\x92\x01\x02', 'latin1');
    const [publication, ...rest] = parseEnvelope('c', message) ?? [];
    assert.equal(rest.length, 0);
    assert.deepEqual(publication?.position, { ep: 'AbCdEfGh', off: 7 });
    assert.equal(publication?.time, 1700000000000);
    assert.equal(publication?.trace, '00-aa-bb-01');
    assert.deepEqual([...(publication?.data ?? [])], [0x92, 0x01, 0x02]);
    assert.equal(publication?.data.buffer, message.buffer, 'no copy of the data');
  });

  it('reads a batch as consecutive offsets from the first, each with its own trace and data (colons included)', () => {
    const message = batch('*AbCdEfGh:41:1700000000000:3:', [
      ['', 'a:b'],
      ['00-tt-ss-01', ''],
      ['', 'zz'],
    ]);
    const publications = parseEnvelope('c', message);
    assert.deepEqual(
      publications?.map((p) => [p.position.off, p.trace, Buffer.from(p.data).toString('latin1')]),
      [
        [41, undefined, 'a:b'],
        [42, '00-tt-ss-01', ''],
        [43, undefined, 'zz'],
      ],
    );
  });

  it('refuses malformed envelopes whole: short, overlong, wrong counts, bad lengths', () => {
    const cases = [
      Buffer.from('AbCdEfGh:7:1700000000000', 'latin1'),
      Buffer.from('AbCdEfGh:x:1700000000000::d', 'latin1'),
      batch('*AbCdEfGh:1:1700000000000:2:', [['', 'a']]),
      Buffer.concat([batch('*AbCdEfGh:1:1700000000000:1:', [['', 'a']]), Buffer.from('extra')]),
      Buffer.from('*AbCdEfGh:1:1700000000000:1:0:9:abc', 'latin1'),
      Buffer.from('*AbCdEfGh:1:1700000000000:1:0:-1:a', 'latin1'),
      Buffer.from(`*AbCdEfGh:1:1700000000000:1:0:${'9'.repeat(40)}:a`, 'latin1'),
      Buffer.from('*AbCdEfGh:1:1700000000000:0:', 'latin1'),
    ];
    for (const message of cases) assert.equal(parseEnvelope('c', message), undefined, message.toString('latin1'));
  });
});
