import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHANNEL_MAX_LENGTH, Channel, isValidChannel, namespaceOf } from '@switchboard/protocol';
import fc from 'fast-check';
import { CHANNEL_ALPHABET, channel } from './arbitraries.js';

const allowed = new Set(CHANNEL_ALPHABET);
const alphabetChar = fc.constantFrom(...CHANNEL_ALPHABET);

describe('channel grammar', () => {
  it('the alphabet is A-Z a-z 0-9 and _ - . : @ = / ,', () => {
    assert.equal(CHANNEL_ALPHABET.length, 26 + 26 + 10 + 8);
    assert.equal(CHANNEL_MAX_LENGTH, 255);
  });

  it('a single character is valid exactly when it is in the alphabet (all of the BMP)', () => {
    for (let code = 0; code <= 0xffff; code++) {
      const c = String.fromCharCode(code);
      assert.equal(isValidChannel(c), allowed.has(c), `U+${code.toString(16).padStart(4, '0')}`);
    }
    for (const astral of ['😀', '\u{10000}', '\u{10ffff}']) assert.equal(isValidChannel(astral), false);
  });

  it('accepts every string of 1..255 alphabet characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: alphabetChar, minLength: 1, maxLength: 255, size: 'max' }), (name) => {
        assert.equal(isValidChannel(name), true);
        assert.ok(Channel.safeParse(name).success);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses the empty name and names longer than 255', () => {
    assert.equal(isValidChannel(''), false);
    assert.equal(isValidChannel('a'.repeat(255)), true);
    assert.equal(isValidChannel('a'.repeat(256)), false);
    fc.assert(
      fc.property(fc.string({ unit: alphabetChar, minLength: 256, maxLength: 1000 }), (name) => {
        assert.equal(isValidChannel(name), false);
        assert.equal(Channel.safeParse(name).success, false);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses any name containing a character outside the alphabet', () => {
    const foreign = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => !allowed.has(c));
    fc.assert(
      fc.property(fc.string({ unit: alphabetChar, maxLength: 100 }), foreign, fc.nat(), (name, c, at) => {
        const i = at % (name.length + 1);
        const bad = name.slice(0, i) + c + name.slice(i);
        assert.equal(isValidChannel(bad), false);
        assert.equal(Channel.safeParse(bad).success, false);
      }),
      { numRuns: 1000 },
    );
    for (const bad of [
      'news eu',
      'news:*',
      'a\n',
      '\nb',
      'é',
      'a\u0000b',
      'a#b',
      'a?b',
      'a%20b',
      'a+b',
      'a~b',
      'a"b',
    ]) {
      assert.equal(isValidChannel(bad), false, JSON.stringify(bad));
    }
  });

  it('is case-sensitive and needs no namespace', () => {
    for (const good of ['lobby', 'LOBBY', 'news:eu', ':x', 'x:', ':', 'user:42:inbox', 'a@b.c', 'k=v,w/x_y-z']) {
      assert.equal(isValidChannel(good), true, good);
    }
  });
});

describe('namespaceOf', () => {
  it('is the part before the first colon, or the default namespace ""', () => {
    assert.equal(namespaceOf('news:eu'), 'news');
    assert.equal(namespaceOf('user:42:inbox'), 'user');
    assert.equal(namespaceOf('lobby'), '');
    assert.equal(namespaceOf(':x'), '');
    assert.equal(namespaceOf('x:'), 'x');
  });

  it('matches the definition for every channel', () => {
    fc.assert(
      fc.property(channel, (name) => {
        const ns = namespaceOf(name);
        assert.equal(ns, name.includes(':') ? (name.split(':')[0] as string) : '');
        assert.equal(ns.includes(':'), false);
        assert.ok(name.startsWith(ns));
      }),
      { numRuns: 500 },
    );
  });
});
