import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { chromiumPath } from '../services/requirements.js';

/** Where the browser tests save their screenshots. */
export const SHOTS = 'artifacts/browser';

/** Flags for a headless Chromium that talks only to loopback and to nothing of Google's. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A browser profile of its own: its tabs share one SharedWorker per origin, as a user's would. */
export interface ChromiumProfile {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Starts headless Chromium (found by chromiumPath) on a fresh profile, removed again by close(). */
export async function openChromiumProfile(): Promise<ChromiumProfile> {
  const profile = mkdtempSync(join(tmpdir(), 'switchboard-chromium-'));
  mkdirSync(SHOTS, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
    viewport: { width: 1200, height: 820 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
