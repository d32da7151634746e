/**
 * The demo application (demo/) in Chromium, as a person uses it: the operations board fed by
 * the hub's simulated services, the chat with names, two tabs on one WebSocket, a hub restart
 * that the page recovers from, and the admin view. Screenshots go to artifacts/browser/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { buildBrowser } from '../../client-sdk/build/bundle.js';
import { subscribersOf, wireSubscriptions } from '../client-sdk/helpers.js';
import { freePort } from '../services/ports.js';
import { type RedisService, startRedis } from '../services/redis.js';
import { type ChromiumProfile, openChromiumProfile, SHOTS } from '../support/chromium.js';
import { startHub, type TestHub } from '../support/hub.js';
import { waitFor } from '../support/wait.js';

const DEMO_CHANNELS = ['demo:alerts', 'demo:chat', 'demo:latency', 'demo:orders'];

interface ChatLine {
  readonly name: string;
  readonly time: string;
  readonly text: string;
}

/** The chat as the page shows it: name, time and text of each message. */
function chatLines(page: Page): Promise<ChatLine[]> {
  return page.$$eval('chat-room .messages li:not(.empty)', (rows) =>
    rows.map((row) => ({
      name: row.querySelector('b')?.textContent ?? '',
      time: row.querySelector('time')?.textContent ?? '',
      text: row.querySelector('p')?.textContent ?? '',
    })),
  );
}

const text = async (page: Page, selector: string) => (await page.textContent(selector, { timeout: 5_000 })) ?? '';

describe('the demo application in Chromium', { timeout: 240_000 }, () => {
  let redis: RedisService;
  let port: number;
  let hub: TestHub;
  /** Another hub of the same cluster (same Redis), which keeps publishing while `hub` restarts. */
  let other: TestHub;
  let browser: ChromiumProfile | undefined;
  let context: BrowserContext;
  let main: Page;
  const pageErrors: string[] = [];

  /** The hub the page talks to: history in Redis, so it survives the hub; the demo's services on. */
  const startDemoHub = () => startHub({ port, broker: { type: 'redis', url: redis.url }, demo: { enabled: true } });
  const open = async (query = '') => {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
    await page.goto(`${hub.http}/${query}`, { timeout: 15_000 });
    await page.waitForFunction(() => document.getElementById('state')?.textContent === 'connected', undefined, {
      timeout: 15_000,
    });
    return page;
  };
  const sendChat = async (page: Page, name: string, message: string) => {
    await page.fill('chat-room input[name=name]', name, { timeout: 5_000 });
    // As a keyboard user would: into the message field, type, Enter.
    await page.focus('#chat-text', { timeout: 5_000 });
    await page.keyboard.type(message);
    await page.keyboard.press('Enter');
  };
  const waitForChat = (page: Page, name: string, message: string) =>
    page.waitForFunction(
      ([who, what]) =>
        Array.from(document.querySelectorAll('chat-room .messages li')).some(
          (row) =>
            row.querySelector('b')?.textContent?.startsWith(who as string) &&
            row.querySelector('p')?.textContent === what,
        ),
      [name, message],
      { timeout: 10_000 },
    );

  before(async () => {
    // The hub serves the bundle from client-sdk/dist/bundle; build it from the current sources.
    await buildBrowser(true);
    redis = await startRedis();
    port = await freePort();
    hub = await startDemoHub();
    other = await startHub({ broker: { type: 'redis', url: redis.url } });
    browser = await openChromiumProfile();
    context = browser.context;
  });

  after(async () => {
    await browser?.close();
    await hub?.stop();
    await other?.stop();
    await redis?.destroy();
  });

  it('shows the live board and the chat with names and times, two tabs on one WebSocket', async () => {
    main = await open();
    // Every feed has spoken: a rate, a p99, the time it was last heard from.
    await main.waitForFunction(
      () =>
        Number(document.querySelector('orders-card .rate')?.textContent) > 0 &&
        /^\d+$/.test(document.querySelector('latency-card .p99')?.textContent ?? '') &&
        document.querySelectorAll('spark-line polyline').length === 2 &&
        /^last \d/.test(document.querySelector('latency-card .heard')?.textContent ?? ''),
      undefined,
      { timeout: 15_000 },
    );
    // Alerts come every 4 to 9 s: one, with its level in words and its time.
    await main.waitForFunction(
      () => /^(info|warning|critical)/.test(document.querySelector('alerts-card .alerts li')?.textContent ?? ''),
      undefined,
      { timeout: 15_000 },
    );
    assert.equal(await text(main, 'orders-card .badge'), 'live');

    const second = await open();
    assert.equal(hub.node.sessions.size, 1);
    assert.deepEqual(wireSubscriptions(hub), [DEMO_CHANNELS]);
    assert.match(await text(main, '#transport'), /one WebSocket shared by all tabs \(SharedWorker\)/);
    await main.waitForFunction(() => document.getElementById('connections')?.textContent === '1', undefined, {
      timeout: 5_000,
    });

    await sendChat(main, 'Ada', 'Deploying checkout now');
    await waitForChat(second, 'Ada', 'Deploying checkout now');
    await sendChat(second, 'Grace', 'Latency looks fine from here');
    await waitForChat(main, 'Grace', 'Latency looks fine from here');
    const lines = (await chatLines(main)).filter((line) => !line.name.startsWith('ops-bot'));
    assert.deepEqual(
      lines.map(({ name, text }) => [name, text]),
      [
        ['Ada (you)', 'Deploying checkout now'],
        ['Grace', 'Latency looks fine from here'],
      ],
    );
    for (const line of lines) assert.match(line.time, /\d{1,2}:\d{2}:\d{2}/);

    // A component of the second tab that wants a channel of its own gets it over the same socket,
    // and closing that tab releases it, and nothing the first tab still shows.
    await second.evaluate(async () => {
      const sdk = (await import('/switchboard.js' as string)) as { defineFeed(): void };
      sdk.defineFeed();
      const feed = document.createElement('switchboard-feed');
      feed.setAttribute('channel', 'extra');
      document.body.append(feed);
    });
    await waitFor(() => subscribersOf(hub, 'extra') === 1, 'the second tab’s own channel', 10_000);
    assert.equal(hub.node.sessions.size, 1);
    await second.close();
    await waitFor(() => subscribersOf(hub, 'extra') === 0, 'the closed tab’s channel to be released', 20_000);
    assert.deepEqual(wireSubscriptions(hub), [DEMO_CHANNELS]);
    await main.screenshot({ path: `${SHOTS}/demo.png`, fullPage: true, timeout: 10_000 });
  });

  it('after a hub restart, replays what another hub published meanwhile, and says how much', async () => {
    const latencyBefore = Number(await main.getAttribute('latency-card', 'data-last-offset', { timeout: 5_000 }));
    await hub.stop();
    await main.waitForFunction(() => document.getElementById('state')?.textContent !== 'connected', undefined, {
      timeout: 10_000,
    });
    // Meanwhile, someone on another hub of the cluster keeps talking.
    const missed = ['Is checkout down?', 'Seeing errors in eu-west', 'Never mind, it is back'];
    for (const message of missed) {
      const response = await fetch(`${other.http}/api/publish`, {
        method: 'POST',
        body: JSON.stringify({ channel: 'demo:chat', data: { name: 'Linus', text: message, at: Date.now() } }),
      });
      assert.equal(response.status, 200, await response.text());
    }
    hub = await startDemoHub();

    await main.waitForFunction(() => document.getElementById('recovery')?.dataset.kind === 'recovered', undefined, {
      timeout: 30_000,
    });
    await main.waitForFunction(
      () => /missed 3, replayed 3/.test(document.getElementById('recovery')?.textContent ?? ''),
      undefined,
      { timeout: 10_000 },
    );
    assert.match(await text(main, '#recovery'), /^Reconnected at .+: every channel recovered: missed 3, replayed 3\.$/);
    assert.equal(await text(main, 'chat-room .badge'), 'recovered · missed 3, replayed 3');
    assert.equal(await text(main, 'orders-card .badge'), 'recovered · nothing missed');
    for (const message of missed) await waitForChat(main, 'Linus', message);
    // And the board is live again: the restarted hub's services publish where they left off.
    await main.waitForFunction(
      (before) => Number(document.querySelector('latency-card')?.getAttribute('data-last-offset')) > before + 1,
      latencyBefore,
      { timeout: 10_000 },
    );
    assert.equal(await text(main, '#state'), 'connected');
    assert.equal(hub.node.sessions.size, 1);
    await main.screenshot({ path: `${SHOTS}/demo-after-restart.png`, fullPage: true, timeout: 10_000 });
  });

  it('gives a tab that opts out (?share=0) its own connection, and says so', async () => {
    const solo = await open('?share=0');
    assert.match(await text(solo, '#transport'), /this tab’s own WebSocket/);
    assert.equal(hub.node.sessions.size, 2);
    await solo.close();
    await waitFor(() => hub.node.sessions.size === 1, 'the opted-out tab’s socket to close', 10_000);
  });

  it('shows this hub’s channels and subscribers in the admin view', async () => {
    const admin = await context.newPage();
    admin.on('pageerror', (error) => pageErrors.push(`${admin.url()}: ${error.message}`));
    await admin.goto(`${hub.http}/admin`, { timeout: 15_000 });
    await admin.waitForFunction(
      () =>
        Array.from(document.querySelectorAll('#channel-rows tr')).some((row) =>
          row.textContent?.startsWith('demo:chat1'),
        ),
      undefined,
      { timeout: 10_000 },
    );
    // Rates need two samples a second apart; the page refreshes every second.
    await admin.waitForFunction(() => Number(document.getElementById('publications')?.textContent) > 0, undefined, {
      timeout: 10_000,
    });
    assert.equal(await text(admin, '#connections'), '1');
    assert.equal(await text(admin, '#ready'), 'ready');
    await admin.screenshot({ path: `${SHOTS}/admin.png`, fullPage: true, timeout: 10_000 });
    await admin.close();
    assert.deepEqual(pageErrors, []);
  });
});
