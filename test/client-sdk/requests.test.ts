import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '@switchboard/protocol';
import { ClientErrorCode, SwitchboardError } from '../../client-sdk/src/index.js';
import { Requests } from '../../client-sdk/src/requests.js';

/** A link as Requests sees it: anything that tells links apart. */
const link = {};

describe('Requests', () => {
  it('numbers requests from 1 in the order they go out', async () => {
    const requests = new Requests(1_000);
    const first = requests.ask({ t: 'ping' });
    const second = requests.ask({ t: 'ping' });
    assert.deepEqual(requests.issue(second.request, link), { t: 'ping', id: 1 });
    assert.deepEqual(requests.issue(first.request, link), { t: 'ping', id: 2 });
    requests.failAll(new SwitchboardError(ClientErrorCode.CLOSED, 'done', false));
    await Promise.allSettled([first.result, second.result]);
  });

  it('resolves with the result of an ok reply', async () => {
    const requests = new Requests(1_000);
    const { request, result } = requests.ask({ t: 'pub', ch: 'c', d: 1 });
    const { id } = requests.issue(request, link);
    requests.settle({ t: 'ok', id, r: { ep: 'e', off: 7 } });
    assert.deepEqual(await result, { ep: 'e', off: 7 });
  });

  it('settles at once, inside the handling of the reply, so the next frame finds its effect', () => {
    const requests = new Requests(1_000);
    const settled: string[] = [];
    const request = requests.create({ t: 'ping' }, { ok: () => settled.push('ok'), fail: () => settled.push('fail') });
    requests.settle({ t: 'ok', id: requests.issue(request, link).id });
    assert.deepEqual(settled, ['ok']);
  });

  it('rejects with the code, message and temporariness of an error reply', async () => {
    const requests = new Requests(1_000);
    const { request, result } = requests.ask({ t: 'pub', ch: 'c', d: 1 });
    const { id } = requests.issue(request, link);
    requests.settle({ t: 'err', id, code: ErrorCode.NOT_AVAILABLE, msg: 'broker is not available', tmp: true });
    await assert.rejects(result, (error) => {
      assert.ok(error instanceof SwitchboardError);
      assert.deepEqual([error.code, error.message, error.temporary], [108, 'broker is not available', true]);
      return true;
    });
  });

  it('times out once; a late reply is ignored', async () => {
    const requests = new Requests(20);
    const { request, result } = requests.ask({ t: 'ping' });
    const { id } = requests.issue(request, link);
    await assert.rejects(result, { code: ClientErrorCode.TIMEOUT, temporary: true });
    requests.settle({ t: 'ok', id });
    assert.deepEqual(requests.waiting(), []);
  });

  it('times out requests that never went out, too', async () => {
    const requests = new Requests(20);
    const { result } = requests.ask({ t: 'ping' });
    await assert.rejects(result, { code: ClientErrorCode.TIMEOUT });
    assert.deepEqual(requests.waiting(), []);
  });

  it('on a lost link fails what went out on it, while unsent requests and those on another link keep waiting', async () => {
    const requests = new Requests(1_000);
    const sent = requests.ask({ t: 'ping' });
    requests.issue(sent.request, link);
    const successor = {};
    const elsewhere = requests.ask({ t: 'ping' });
    requests.issue(elsewhere.request, successor);
    const unsent = requests.ask({ t: 'pub', ch: 'c', d: 1 });
    assert.equal(requests.awaiting(link), true);
    requests.failSent(new SwitchboardError(ClientErrorCode.DISCONNECTED, 'lost', true), link);
    await assert.rejects(sent.result, { code: ClientErrorCode.DISCONNECTED });
    assert.equal(requests.awaiting(link), false);
    assert.equal(requests.awaiting(successor), true, 'a request on the other link still waits');
    requests.settle({ t: 'ok', id: elsewhere.request.id });
    assert.deepEqual(await elsewhere.result, {});
    assert.deepEqual(requests.waiting(), [unsent.request]);
    const { id } = requests.issue(unsent.request, link);
    requests.settle({ t: 'ok', id, r: {} });
    assert.deepEqual(await unsent.result, {});
  });

  it('an error reply for an id nobody waits for changes nothing', async () => {
    const requests = new Requests(1_000);
    const { request, result } = requests.ask({ t: 'ping' });
    const { id } = requests.issue(request, link);
    requests.settle({ t: 'err', id: id + 1, code: ErrorCode.BAD_REQUEST, msg: 'no' });
    requests.settle({ t: 'ok', id });
    assert.deepEqual(await result, {});
  });
});
