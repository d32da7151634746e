import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  CHANNEL_MAX_LENGTH,
  CloseCode,
  ErrorCode,
  isTemporaryError,
  MAX_DATA_DEPTH,
  MAX_DATA_NODES,
  MAX_WIRE_DEPTH,
  shouldReconnect,
} from '@switchboard/protocol';
import fc from 'fast-check';
import { parseConfig } from '../../src/config.js';

/** The spec's tables, restated: name → [code, temporary] and name → [code, reconnect]. */
const ERRORS: Record<string, [number, boolean]> = {
  INTERNAL: [100, true],
  UNAUTHORIZED: [101, false],
  UNKNOWN_CHANNEL: [102, false],
  PERMISSION_DENIED: [103, false],
  UNKNOWN_COMMAND: [104, false],
  ALREADY_SUBSCRIBED: [105, false],
  LIMIT_EXCEEDED: [106, false],
  BAD_REQUEST: [107, false],
  NOT_AVAILABLE: [108, true],
  TOKEN_EXPIRED: [109, false],
  NOT_CONNECTED: [110, false],
  TOO_MANY_REQUESTS: [111, true],
  UNRECOVERABLE_POSITION: [112, false],
  ALREADY_CONNECTED: [113, false],
  INVALID_PAYLOAD: [114, false],
  OUTCOME_UNKNOWN: [115, true],
  NO_ROUTE: [116, false],
  RPC_TIMEOUT: [117, true],
  SERVICE_ERROR: [118, false],
  BACKEND_UNAVAILABLE: [119, true],
};
const CLOSES: Record<string, [number, boolean]> = {
  SHUTDOWN: [4000, true],
  SLOW_CONSUMER: [4001, true],
  INTERNAL: [4002, true],
  TOO_MANY_REQUESTS: [4003, true],
  TOKEN_EXPIRED: [4004, true],
  CONNECTION_LIMIT: [4005, true],
  MALFORMED_FRAME: [4500, false],
  UNAUTHORIZED: [4501, false],
  CONNECT_TIMEOUT: [4006, true],
  SERVER_DISCONNECT: [4007, true],
  SERVER_DISCONNECT_FINAL: [4502, false],
  FORBIDDEN: [4503, false],
  FRAME_TOO_LARGE: [1009, false],
};

const readme = readFileSync(new URL('../../protocol/README.md', import.meta.url), 'utf8');
/** The cells of the README table row whose first two cells are `<code>` and `` `<name>` ``. */
const row = (code: number, name: string): string[] | undefined =>
  readme
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    )
    .find((cells) => cells[0] === String(code) && cells[1] === `\`${name}\``);

describe('error codes', () => {
  it('are exactly the documented ones, each unique', () => {
    assert.deepStrictEqual(
      Object.fromEntries(Object.entries(ErrorCode)),
      Object.fromEntries(Object.entries(ERRORS).map(([name, [code]]) => [name, code])),
    );
    const values = Object.values(ErrorCode);
    assert.equal(new Set(values).size, values.length);
    for (const code of values) assert.ok(Number.isInteger(code) && code >= 100 && code <= 199);
  });

  it('isTemporaryError holds exactly for the codes the table marks temporary', () => {
    for (const [name, [code, temporary]] of Object.entries(ERRORS))
      assert.equal(isTemporaryError(code), temporary, name);
  });

  it('isTemporaryError is false for every unknown code', () => {
    const known = new Set<number>(Object.values(ErrorCode));
    fc.assert(
      fc.property(fc.integer(), (code) => {
        if (!known.has(code)) assert.equal(isTemporaryError(code), false);
      }),
      { numRuns: 2000 },
    );
    for (const code of [0, 99, 120, 1000, 4000, Number.NaN]) assert.equal(isTemporaryError(code), false);
  });

  it('each has a row in the README table with its temporary flag', () => {
    for (const [name, [code, temporary]] of Object.entries(ERRORS)) {
      const cells = row(code, name);
      assert.ok(cells, `README documents ${code} ${name}`);
      assert.equal(cells[2], temporary ? 'yes' : 'no', `${code} ${name}`);
      assert.ok((cells[3] ?? '').length > 10, `${code} ${name} is explained`);
    }
  });
});

describe('close codes', () => {
  it('are exactly the documented ones, each unique, in 4000-4999 apart from 1009', () => {
    assert.deepStrictEqual(
      Object.fromEntries(Object.entries(CloseCode)),
      Object.fromEntries(Object.entries(CLOSES).map(([name, [code]]) => [name, code])),
    );
    const values = Object.values(CloseCode);
    assert.equal(new Set(values).size, values.length);
    for (const code of values) assert.ok(code === 1009 || (code >= 4000 && code <= 4999), String(code));
  });

  it('shouldReconnect: 4000-4499 reconnect, 4500-4999 and 1009 stop', () => {
    for (const [name, [code, reconnect]] of Object.entries(CLOSES))
      assert.equal(shouldReconnect(code), reconnect, name);
    for (const code of Object.values(CloseCode)) {
      assert.equal(shouldReconnect(code), code !== 1009 && code < 4500, String(code));
    }
  });

  it('shouldReconnect over every possible close code: unknown codes reconnect', () => {
    for (let code = 0; code <= 0xffff; code++) {
      const expected = !(code >= 4500 && code <= 4999) && code !== 1009;
      assert.equal(shouldReconnect(code), expected, String(code));
    }
    for (const code of [1000, 1001, 1006, 1011, 1012, 1013, 4499, 4999]) {
      assert.equal(shouldReconnect(code), code !== 4999, String(code));
    }
  });

  it('each has a row in the README table with its reconnect flag', () => {
    for (const [name, [code, reconnect]] of Object.entries(CLOSES)) {
      const cells = row(code, name);
      assert.ok(cells, `README documents ${code} ${name}`);
      assert.equal(cells[2], reconnect ? 'yes' : 'no', `${code} ${name}`);
      assert.ok((cells[3] ?? '').length > 10, `${code} ${name} is explained`);
    }
  });
});

describe('the numbers protocol/README.md states', () => {
  it('are the ones the code uses', () => {
    const stated = (pattern: RegExp) => Number(readme.match(pattern)?.[1]?.replace(/ /g, ''));
    assert.equal(stated(/data nesting ≤ (\d+) levels \(`MAX_DATA_DEPTH`\)/), MAX_DATA_DEPTH);
    assert.equal(stated(/msgpack nesting ≤ ([\d ]+) levels \(`MAX_WIRE_DEPTH`\)/), MAX_WIRE_DEPTH);
    assert.equal(stated(/data ≤ ([\d ]+) values \(`MAX_DATA_NODES`\)/), MAX_DATA_NODES);
    assert.equal(stated(/channel ≤ (\d+) characters/), CHANNEL_MAX_LENGTH);
    assert.equal(stated(/refused with 107 \(`d: nested deeper than (\d+) levels`\)/), MAX_DATA_DEPTH);
    assert.ok(!/nesting ≤ 100/.test(readme), 'no stale nesting limit');
  });

  it('the limits table states the defaults of the configuration schema', () => {
    const limits = parseConfig({}).limits;
    const row = (key: string) => readme.split('\n').find((line) => line.startsWith(`| \`limits.${key}\``));
    const number = (text: string) => {
      const match = /^\s*([\d ]+)\s*(KiB|MiB)?\s*$/.exec(text);
      const unit = match?.[2] === 'KiB' ? 1024 : match?.[2] === 'MiB' ? 1024 * 1024 : 1;
      return Number(match?.[1]?.replace(/ /g, '')) * unit;
    };
    for (const key of Object.keys(limits) as Array<keyof typeof limits>) {
      const line = row(key);
      if (!line) continue;
      const cells = line.split('|').map((cell) => cell.trim());
      const defaults = (cells[2] ?? '').split(',');
      const keys = (cells[1] ?? '').split(',').map((k) => k.trim().replace(/`limits\.|`/g, ''));
      const at = keys.indexOf(key);
      assert.equal(number(defaults[at] ?? ''), limits[key], `README default of limits.${key}`);
    }
    assert.ok(row('maxHttpHeaderBytes'), 'the header limit is documented');
  });
});
