import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { buildBrowser } from '../../client-sdk/build/bundle.js';
import { subscribersOf, wireSubscriptions } from '../client-sdk/helpers.js';
import { chromiumPath } from '../services/requirements.js';
import { startHub, type TestHub } from '../support/hub.js';
import { waitFor } from '../support/wait.js';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOT = 'artifacts/browser/demo.png';

interface FeedView {
  readonly channel: string | null;
  readonly items: readonly (readonly [string, unknown])[];
}

/** What every `<switchboard-feed>` of the page shows: its channel and its publications, oldest first. */
function feeds(page: Page): Promise<FeedView[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('switchboard-feed')).map((element) => {
      const feed = element as HTMLElement & {
        channel: string | null;
        items: readonly { channel: string; data: unknown }[];
      };
      return { channel: feed.channel, items: feed.items.map((p) => [p.channel, p.data] as const).reverse() };
    }),
  );
}

describe('the demo page in Chromium: one WebSocket per browser', { timeout: 180_000 }, () => {
  let hub: TestHub;
  let profile: string;
  let context: BrowserContext;
  let main: Page;
  const pageErrors: string[] = [];

  const publish = async (channel: string, data: unknown) => {
    const response = await fetch(`${hub.http}/api/publish`, {
      method: 'POST',
      body: JSON.stringify({ channel, data }),
    });
    assert.equal(response.status, 200, await response.text());
  };
  const open = async (query = '') => {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
    await page.goto(`${hub.http}/${query}`, { timeout: 15_000 });
    await page.waitForFunction(() => document.getElementById('state')?.textContent === 'connected', undefined, {
      timeout: 15_000,
    });
    return page;
  };
  /** Waits until the page's feeds show `expected` (channel → data published to it, in order). */
  const expectFeeds = async (page: Page, expected: Record<string, unknown[]>) => {
    const want = Object.entries(expected).map(([channel, data]) => ({
      channel,
      items: data.map((value) => [channel, value]),
    }));
    const deadline = Date.now() + 10_000;
    let seen = await feeds(page);
    while (JSON.stringify(seen) !== JSON.stringify(want) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      seen = await feeds(page);
    }
    assert.deepEqual(seen, want);
  };

  before(async () => {
    // The hub serves the bundle from client-sdk/dist/bundle; build it from the current sources.
    await buildBrowser(true);
    hub = await startHub();
    profile = mkdtempSync(join(tmpdir(), 'switchboard-chromium-'));
    // A persistent context is one browser profile: its tabs share one SharedWorker per origin.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath(),
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 30_000,
      viewport: { width: 1000, height: 640 },
    });
  });

  after(async () => {
    await context?.close();
    await hub?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('serves three feeds on a page and a second tab through one WebSocket', async () => {
    main = await open();
    const second = await open('?channels=news,extra');
    await waitFor(() => subscribersOf(hub, 'extra') === 1, 'the second tab’s channel', 10_000);
    assert.equal(hub.node.sessions.size, 1);
    assert.deepEqual(wireSubscriptions(hub), [['extra', 'news', 'sport', 'weather']]);
    // The page shows the hub's own count.
    await main.waitForFunction(() => document.getElementById('connections')?.textContent === '1', undefined, {
      timeout: 5_000,
    });
    assert.match((await main.textContent('#mode', { timeout: 5_000 })) ?? '', /SharedWorker/);

    for (const channel of ['news', 'sport', 'weather', 'extra']) await publish(channel, `${channel} 1`);
    await expectFeeds(main, { news: ['news 1'], sport: ['sport 1'], weather: ['weather 1'] });
    await expectFeeds(second, { news: ['news 1'], extra: ['extra 1'] });

    // Closing the tab releases what only it wanted; the shared socket stays.
    await second.close();
    await waitFor(() => subscribersOf(hub, 'extra') === 0, 'the closed tab’s channel to be released', 20_000);
    assert.deepEqual(wireSubscriptions(hub), [['news', 'sport', 'weather']]);
  });

  it('publishes from the page’s publish box', async () => {
    await main.selectOption('#channel', 'sport', { timeout: 5_000 });
    await main.fill('#data', '{"score":[2,1]}', { timeout: 5_000 });
    await main.click('button[type=submit]', { timeout: 5_000 });
    await main.waitForFunction(() => document.getElementById('ack')?.textContent === 'published at #2', undefined, {
      timeout: 5_000,
    });
    await expectFeeds(main, { news: ['news 1'], sport: ['sport 1', { score: [2, 1] }], weather: ['weather 1'] });
  });

  it('releases a removed feed’s channel and nothing else', async () => {
    await main.evaluate(() => {
      const feed = document.createElement('switchboard-feed');
      feed.setAttribute('channel', 'brief');
      document.getElementById('feeds')?.append(feed);
    });
    await waitFor(() => subscribersOf(hub, 'brief') === 1, 'the added feed’s channel', 10_000);
    await main.evaluate(() => document.querySelector('switchboard-feed[channel=brief]')?.remove());
    await waitFor(() => subscribersOf(hub, 'brief') === 0, 'the removed feed’s channel to be released', 10_000);
    assert.deepEqual(wireSubscriptions(hub), [['news', 'sport', 'weather']]);
  });

  it('reconnects after the hub is stopped and started again, and the feeds keep updating', async () => {
    const port = hub.port;
    await hub.stop();
    hub = await startHub({ port });
    await waitFor(() => subscribersOf(hub, 'weather') === 1, 'the page to resubscribe to the new hub', 30_000);
    assert.equal(hub.node.sessions.size, 1);
    // The memory broker's history went with the old hub; the new one starts a new epoch.
    await publish('weather', 'after the restart');
    await publish('news', 'back');
    await expectFeeds(main, {
      news: ['news 1', 'back'],
      sport: ['sport 1', { score: [2, 1] }],
      weather: ['weather 1', 'after the restart'],
    });
    await main.waitForFunction(() => document.getElementById('state')?.textContent === 'connected', undefined, {
      timeout: 5_000,
    });
    await main.waitForFunction(() => document.getElementById('connections')?.textContent === '1', undefined, {
      timeout: 5_000,
    });
    mkdirSync('artifacts/browser', { recursive: true });
    await main.screenshot({ path: SCREENSHOT, fullPage: true, timeout: 10_000 });
  });

  it('gives a tab that opts out its own connection, with the same page', async () => {
    const solo = await open('?share=0&channels=solo');
    assert.match((await solo.textContent('#mode', { timeout: 5_000 })) ?? '', /this tab only/);
    assert.equal(hub.node.sessions.size, 2);
    await publish('solo', 'mine');
    await expectFeeds(solo, { solo: ['mine'] });
    await solo.close();
    await waitFor(() => hub.node.sessions.size === 1, 'the opted-out tab’s socket to close', 10_000);
    assert.deepEqual(pageErrors, []);
  });
});
