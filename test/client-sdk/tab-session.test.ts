/**
 * The SharedWorker's session with one tab (client-sdk/src/tab-session.ts): the tab speaks
 * protocol v1 to it and hears what a hub would say, while the worker's own Client, here over an
 * in-memory link on which the test plays the hub, holds the one subscription of each channel.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { type ClientFrame, ErrorCode } from '@switchboard/protocol';
import { Client, ClientErrorCode, type LinkFrame, SwitchboardError } from '../../client-sdk/src/index.js';
import { TabSession } from '../../client-sdk/src/tab-session.js';
import { CONNECT_RESULT, ScriptedHub } from './scripted-hub.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('a tab session in the SharedWorker', () => {
  const clients: Client[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  /** The worker's Client, connected, and `tabs` sessions on it, each with what it said to its tab. */
  async function worker(tabs = 1) {
    const hub = new ScriptedHub();
    const client = new Client('memory://hub', { link: hub.dial });
    clients.push(client);
    client.connect();
    const link = await hub.connected();
    const sessions = Array.from({ length: tabs }, () => {
      const heard: LinkFrame[] = [];
      const session = new TabSession(
        client,
        () => CONNECT_RESULT,
        (frame) => heard.push(frame),
      );
      return { session, heard, tell: (frame: ClientFrame) => session.receive(frame) };
    });
    return { client, link, sessions };
  }

  const first = <T>(items: T[]): T => {
    const item = items[0];
    assert.ok(item);
    return item;
  };

  it("answers the tab's connect with the worker's connect result", async () => {
    const { sessions } = await worker();
    const tab = first(sessions);
    tab.tell({ t: 'connect', id: 1, name: 'tab' });
    assert.deepEqual(tab.heard, [{ t: 'ok', id: 1, r: CONNECT_RESULT }]);
  });

  it("refuses the tab's connect as the hub refused the worker's", () => {
    const heard: LinkFrame[] = [];
    const refusal = new SwitchboardError(ErrorCode.UNAUTHORIZED, 'bad token', false);
    const session = new TabSession(
      new Client('memory://hub', { link: new ScriptedHub().dial }),
      () => refusal,
      (frame) => heard.push(frame),
    );
    session.receive({ t: 'connect', id: 1 });
    assert.deepEqual(heard, [{ t: 'err', id: 1, code: ErrorCode.UNAUTHORIZED, msg: 'bad token' }]);
  });

  it("answers a sub with the hub's reply, then forwards the channel's publications", async () => {
    const { link, sessions } = await worker();
    const tab = first(sessions);
    tab.tell({ t: 'sub', id: 2, ch: 'news' });
    link.subscribed('news', { ep: 'e', off: 4 });
    link.msg('news', 'e', 5, 'five');
    link.hub({ t: 'msg', ch: 'news', d: 'live' });
    assert.deepEqual(tab.heard, [
      { t: 'ok', id: 2, r: { ep: 'e', off: 4 } },
      { t: 'msg', ch: 'news', ep: 'e', off: 5, d: 'five' },
      { t: 'msg', ch: 'news', d: 'live' },
    ]);
  });

  it('subscribes a channel on the wire once for every tab that wants it', async () => {
    const { link, sessions } = await worker(2);
    for (const tab of sessions) tab.tell({ t: 'sub', id: 1, ch: 'news' });
    link.subscribed('news', { ep: 'e', off: 0 });
    await tick();
    assert.deepEqual(link.subscriptions(), [['sub', 'news']]);
    for (const tab of sessions) assert.deepEqual(tab.heard, [{ t: 'ok', id: 1, r: { ep: 'e', off: 0 } }]);
  });

  it('replays to a tab that resumes behind the channel another tab holds, from its own since', async () => {
    const { link, sessions } = await worker(2);
    const [holder, behind] = sessions;
    assert.ok(holder && behind);
    holder.tell({ t: 'sub', id: 1, ch: 'news' });
    link.subscribed('news', { ep: 'e', off: 0 });
    link.msg('news', 'e', 1);
    link.msg('news', 'e', 2);
    behind.tell({ t: 'sub', id: 1, ch: 'news', since: { ep: 'e', off: 1 } });
    await tick();
    assert.deepEqual(link.subscriptions().slice(1), [
      ['unsub', 'news'],
      ['sub', 'news', { ep: 'e', off: 1 }],
    ]);
    link.subscribed('news', { ep: 'e', off: 2, rec: true });
    link.msg('news', 'e', 2);
    assert.deepEqual(behind.heard, [
      { t: 'ok', id: 1, r: { ep: 'e', off: 2, rec: true } },
      { t: 'msg', ch: 'news', ep: 'e', off: 2, d: 2 },
    ]);
    assert.equal(holder.heard.length, 3, 'the holder heard its ok and the two publications once');
  });

  it("passes a lost push on as the tab's own lost push", async () => {
    const { link, sessions } = await worker();
    const tab = first(sessions);
    tab.tell({ t: 'sub', id: 1, ch: 'news' });
    link.subscribed('news', { ep: 'e', off: 3 });
    link.hub({ t: 'lost', ch: 'news', ep: 'f', off: 0, why: 'epoch_changed' });
    assert.deepEqual(tab.heard.at(-1), { t: 'lost', ch: 'news', ep: 'f', off: 0, why: 'epoch_changed' });
  });

  it('refuses a second sub of a channel the tab holds, as the hub would (105)', async () => {
    const { sessions } = await worker();
    const tab = first(sessions);
    tab.tell({ t: 'sub', id: 1, ch: 'news' });
    tab.tell({ t: 'sub', id: 2, ch: 'news' });
    assert.deepEqual(tab.heard, [
      { t: 'err', id: 2, code: ErrorCode.ALREADY_SUBSCRIBED, msg: 'already subscribed to news' },
    ]);
  });

  it("answers a refused sub with the hub's error, so the tab's Client retries a temporary one", async () => {
    const { link, sessions } = await worker();
    const tab = first(sessions);
    tab.tell({ t: 'sub', id: 1, ch: 'news' });
    link.hub({ t: 'err', id: link.lastSub('news').id, code: ErrorCode.NOT_AVAILABLE, msg: 'broker down', tmp: true });
    assert.deepEqual(tab.heard, [{ t: 'err', id: 1, code: ErrorCode.NOT_AVAILABLE, msg: 'broker down', tmp: true }]);
  });

  it('tells the tab when the hub ends its subscription (unsubd)', async () => {
    const { link, sessions } = await worker();
    const tab = first(sessions);
    tab.tell({ t: 'sub', id: 1, ch: 'news' });
    link.subscribed('news', { ep: 'e', off: 0 });
    link.hub({ t: 'unsubd', ch: 'news', code: ErrorCode.PERMISSION_DENIED, msg: 'grant revoked' });
    assert.deepEqual(tab.heard.at(-1), {
      t: 'unsubd',
      ch: 'news',
      code: ErrorCode.PERMISSION_DENIED,
      msg: 'grant revoked',
    });
  });

  it('releases a channel on unsub, and on the wire with its last tab', async () => {
    const { link, sessions } = await worker();
    const tab = first(sessions);
    tab.tell({ t: 'sub', id: 1, ch: 'news' });
    link.subscribed('news', { ep: 'e', off: 0 });
    tab.tell({ t: 'unsub', id: 2, ch: 'news' });
    assert.deepEqual(tab.heard.at(-1), { t: 'ok', id: 2 });
    assert.deepEqual(link.subscriptions(), [
      ['sub', 'news'],
      ['unsub', 'news'],
    ]);
  });

  it('publishes through the worker and answers with the result, or the error', async () => {
    const { link, sessions } = await worker();
    const tab = first(sessions);
    tab.tell({ t: 'pub', id: 7, ch: 'news', d: 1 });
    tab.tell({ t: 'pub', id: 8, ch: 'news', d: 2 });
    const [one, two] = link.frames('pub');
    assert.ok(one && two);
    link.hub({ t: 'ok', id: one.id, r: { ep: 'e', off: 1 } });
    link.hub({ t: 'err', id: two.id, code: ClientErrorCode.FRAME_TOO_LARGE, msg: 'too large' });
    await tick();
    assert.deepEqual(tab.heard, [
      { t: 'ok', id: 7, r: { ep: 'e', off: 1 } },
      { t: 'err', id: 8, code: ClientErrorCode.FRAME_TOO_LARGE, msg: 'too large' },
    ]);
  });

  it('releases every channel of the tab when the session closes, and says nothing more', async () => {
    const { link, sessions } = await worker();
    const tab = first(sessions);
    tab.tell({ t: 'sub', id: 1, ch: 'a' });
    tab.tell({ t: 'sub', id: 2, ch: 'b' });
    link.subscribed('a', { ep: 'e', off: 0 });
    link.subscribed('b', { ep: 'e', off: 0 });
    tab.session.close();
    link.msg('a', 'e', 1);
    tab.tell({ t: 'ping', id: 3 });
    assert.equal(tab.heard.length, 2);
    assert.deepEqual(link.subscriptions().slice(2).sort(), [
      ['unsub', 'a'],
      ['unsub', 'b'],
    ]);
  });
});
