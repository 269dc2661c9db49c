/// <reference lib="dom" />
/**
 * The browser tests' setup: the whole local stack (s3rver, origin, workerd) in a fresh data dir,
 * and real headless Chromium (Debian's `chromium`, driven by playwright-core) to open the
 * playground in; pages collect their errors so a test can assert there were none.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { type DevStack, startDevStack } from '../../cli/dev-stack.ts';
import { devOptions } from '../helpers/local-stack.ts';

export const CHROMIUM = process.env.LITEPIX_CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = resolve(import.meta.dirname, '../artifacts');

export interface BrowserStack {
  stack: DevStack;
  browser: Browser;
  /** A new page of `width` × `height` CSS px on the playground (a 1× screen unless `dpr`), and the errors it logs. */
  openPage(width: number, height: number, dpr?: number): Promise<{ page: Page; errors: string[] }>;
  stop(): Promise<void>;
}

export async function startBrowserStack(): Promise<BrowserStack> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set LITEPIX_CHROMIUM to its path`,
    );
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  const options = devOptions();
  const stack = await startDevStack(options);
  let browser: Browser | undefined;
  const stop = async () => {
    await browser?.close();
    await stack.stop();
    rmSync(options.dataDir, { recursive: true, force: true });
  };
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  } catch (err) {
    await stop();
    throw err;
  }
  const launched = browser;
  async function openPage(width: number, height: number, dpr = 1) {
    const context = await launched.newContext({ viewport: { width, height }, deviceScaleFactor: dpr });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => {
      // A refused request (the 400 a bad-value test provokes) is logged by Chromium itself.
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource'))
        errors.push(msg.text());
    });
    await page.goto(stack.url);
    return { page, errors };
  }
  return { stack, browser: launched, openPage, stop };
}

export const fact = (page: Page, side: 'original' | 'variant', name: string) =>
  page.locator(`#${side}-facts dd[data-fact="${name}"]`);

/** Waits until the page reports a finished variant whose dimensions start with `width ×`. */
export async function variantWidth(page: Page, width: number): Promise<void> {
  await expect
    .poll(() => fact(page, 'variant', 'dimensions').textContent(), { timeout: 30_000 })
    .toMatch(new RegExp(`^${width} × \\d+$`));
  await expect.poll(() => page.locator('#status').textContent(), { timeout: 30_000 }).toMatch(/^Done: /);
}

/** The exact byte count a side's "Bytes" fact shows, e.g. `12.3 KB (12,601 B)` → 12601. */
export async function shownBytes(page: Page, side: 'original' | 'variant'): Promise<number> {
  const text = (await fact(page, side, 'bytes').textContent()) ?? '';
  const exact = /\(([\d,]+) B\)/.exec(text)?.[1];
  if (exact === undefined) throw new Error(`No byte count in the ${side}'s Bytes fact: "${text}"`);
  return Number(exact.replaceAll(',', ''));
}
