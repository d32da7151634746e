/**
 * The demo application in Chromium behind a proxy that refuses WebSocket upgrades: the page
 * works over the HTTP-streaming fallback (feeds update, the chat's publishes are acknowledged),
 * and a hub restart is recovered from, with what another hub published meanwhile replayed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { buildBrowser } from '../../client-sdk/build/bundle.js';
import { SseClientSocket } from '../../src/transport/sse-socket.js';
import { freePort } from '../services/ports.js';
import { type RedisService, startRedis } from '../services/redis.js';
import { type ChromiumProfile, openChromiumProfile, SHOTS } from '../support/chromium.js';
import { startHub, type TestHub } from '../support/hub.js';
import { NoUpgradeProxy } from '../support/no-upgrade-proxy.js';

describe('the demo in Chromium with WebSocket upgrades blocked', { timeout: 240_000 }, () => {
  let redis: RedisService;
  let port: number;
  let hub: TestHub;
  let other: TestHub;
  let proxy: NoUpgradeProxy;
  let browser: ChromiumProfile | undefined;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  const startDemoHub = () => startHub({ port, broker: { type: 'redis', url: redis.url }, demo: { enabled: true } });
  const overSse = () =>
    hub.node.sessions.size > 0 && [...hub.node.sessions].every((session) => session.socket instanceof SseClientSocket);
  const chatShows = (who: string, what: string) =>
    page.waitForFunction(
      ([name, message]) =>
        Array.from(document.querySelectorAll('chat-room .messages li')).some(
          (row) =>
            row.querySelector('b')?.textContent?.startsWith(name as string) &&
            row.querySelector('p')?.textContent === message,
        ),
      [who, what],
      { timeout: 15_000 },
    );

  before(async () => {
    await buildBrowser(true);
    redis = await startRedis();
    port = await freePort();
    hub = await startDemoHub();
    other = await startHub({ broker: { type: 'redis', url: redis.url } });
    proxy = await NoUpgradeProxy.start(port);
    browser = await openChromiumProfile();
    context = browser.context;
  });

  after(async () => {
    await browser?.close();
    await proxy?.stop();
    await hub?.stop();
    await other?.stop();
    await redis?.destroy();
  });

  it('connects over HTTP streaming: the feeds update and the chat’s publishes are acknowledged', async () => {
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`http://127.0.0.1:${proxy.port}/`, { timeout: 15_000 });
    await page.waitForFunction(() => document.getElementById('state')?.textContent === 'connected', undefined, {
      timeout: 20_000,
    });
    assert.ok(proxy.upgradesRefused >= 1, 'the page tried a WebSocket first');
    assert.ok(overSse(), 'the hub holds the page’s connection as an SSE stream');
    await page.waitForFunction(
      () =>
        document.getElementById('transport')?.textContent ===
        'one HTTP stream (WebSockets are blocked here) shared by all tabs (SharedWorker)',
      undefined,
      { timeout: 5_000 },
    );
    await page.waitForFunction(
      () =>
        Number(document.querySelector('orders-card .rate')?.textContent) > 0 &&
        /^\d+$/.test(document.querySelector('latency-card .p99')?.textContent ?? ''),
      undefined,
      { timeout: 15_000 },
    );
    await page.fill('chat-room input[name=name]', 'Ada', { timeout: 5_000 });
    await page.focus('#chat-text', { timeout: 5_000 });
    await page.keyboard.type('Behind the proxy');
    await page.keyboard.press('Enter');
    await chatShows('Ada', 'Behind the proxy');
    // The input is cleared once the hub acknowledged the publish.
    await page.waitForFunction(
      () => (document.getElementById('chat-text') as HTMLInputElement).value === '',
      undefined,
      {
        timeout: 10_000,
      },
    );
  });

  it('recovers from a hub restart over the fallback, replaying what another hub published meanwhile', async () => {
    await hub.stop();
    await page.waitForFunction(() => document.getElementById('state')?.textContent !== 'connected', undefined, {
      timeout: 10_000,
    });
    const missed = ['Is checkout down?', 'Never mind, it is back'];
    for (const message of missed) {
      const response = await fetch(`${other.http}/api/publish`, {
        method: 'POST',
        body: JSON.stringify({ channel: 'demo:chat', data: { name: 'Linus', text: message, at: Date.now() } }),
      });
      assert.equal(response.status, 200);
    }
    hub = await startDemoHub();
    await page.waitForFunction(() => document.getElementById('recovery')?.dataset.kind === 'recovered', undefined, {
      timeout: 30_000,
    });
    for (const message of missed) await chatShows('Linus', message);
    assert.ok(overSse(), 'still over the fallback');
    const solo = await context.newPage();
    await solo.goto(`http://127.0.0.1:${proxy.port}/?share=0`, { timeout: 15_000 });
    await solo.waitForFunction(
      () =>
        document.getElementById('transport')?.textContent ===
        'this tab’s own HTTP stream (WebSockets are blocked here)',
      undefined,
      { timeout: 20_000 },
    );
    await solo.close();
    await page.screenshot({ path: `${SHOTS}/demo-fallback.png`, fullPage: true, timeout: 10_000 });
    assert.deepEqual(pageErrors, []);
  });
});
