import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { HUB_VERSION } from '../../src/version.js';

describe('HUB_VERSION', () => {
  it('is the version in package.json, which `info` and the OpenAPI document report', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    assert.equal(HUB_VERSION, manifest.version);
  });
});
