import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Emitter } from '../../client-sdk/src/emitter.js';

class Probe extends Emitter<{ n: number; s: string }> {
  fire<K extends 'n' | 's'>(event: K, value: { n: number; s: string }[K]): void {
    this.emit(event, value);
  }
}

describe('Emitter', () => {
  it('calls the listeners of an event, in the order they were added', () => {
    const probe = new Probe();
    const calls: string[] = [];
    probe.on('n', (n) => calls.push(`first ${n}`));
    probe.on('n', (n) => calls.push(`second ${n}`));
    probe.on('s', (s) => calls.push(`other ${s}`));
    probe.fire('n', 1);
    assert.deepEqual(calls, ['first 1', 'second 1']);
  });

  it('stops calling a listener removed with off or with the remover that on returned', () => {
    const probe = new Probe();
    const calls: number[] = [];
    const listener = (n: number) => calls.push(n);
    const remove = probe.on('n', listener);
    probe.fire('n', 1);
    remove();
    probe.fire('n', 2);
    probe.on('n', listener);
    probe.off('n', listener);
    probe.fire('n', 3);
    assert.deepEqual(calls, [1]);
  });

  it('is quiet about events nobody listens to', () => {
    assert.doesNotThrow(() => new Probe().fire('s', 'unheard'));
  });
});
