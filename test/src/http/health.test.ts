import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startHub } from '../../support/hub.js';

describe('health endpoints', () => {
  it('reports live and ready while serving', async () => {
    const hub = await startHub();
    const health = await fetch(`${hub.http}/healthz`);
    assert.equal(health.status, 200);
    const ready = await fetch(`${hub.http}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready' });
    await hub.stop();
  });
});
