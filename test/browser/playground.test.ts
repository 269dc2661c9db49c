/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The playground in real headless Chromium (Debian's `chromium`, driven by playwright-core)
 * against the whole local stack: pick a sample, upload a photo, change the width, read the
 * figures, and check it holds up on a phone-width screen. Screenshots go to test/artifacts/.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevStack } from '../../cli/dev-stack.ts';
import {
  ARTIFACTS,
  type BrowserStack,
  fact,
  shownBytes,
  startBrowserStack,
  variantWidth,
} from './browser-stack.ts';

const PHOTO = resolve(import.meta.dirname, '../fixtures/images/kodim23-q95.jpg');

let setup: BrowserStack;
let stack: DevStack;
let browser: Browser;

beforeAll(async () => {
  setup = await startBrowserStack();
  stack = setup.stack;
  browser = setup.browser;
});

afterAll(async () => {
  await setup?.stop();
});

const openPage = (width: number, height: number) => setup.openPage(width, height);

describe('the playground in Chromium', () => {
  it('shows a sample side by side with its variant, then an uploaded photo at a new width', async () => {
    const { page, errors } = await openPage(1280, 900);
    // First load: the first sample at its own size, negotiated for a current browser.
    await expect
      .poll(() => page.locator('#source').inputValue(), { timeout: 30_000 })
      .toBe('samples/kodim03.png');
    await variantWidth(page, 768);
    expect(await fact(page, 'original', 'format').textContent()).toBe('PNG');
    expect(await fact(page, 'variant', 'format').textContent()).toBe('AVIF');
    expect(await page.locator('#url').inputValue()).toBe(`${stack.url}/samples/kodim03.png`);

    // Upload a photo through the file input: it becomes the selected original.
    await page.locator('#file').setInputFiles(PHOTO);
    await expect
      .poll(() => page.locator('#source').inputValue(), { timeout: 30_000 })
      .toMatch(/^uploads\/[0-9a-f]{12}\/kodim23-q95\.jpg$/);
    await variantWidth(page, 768);
    expect(await fact(page, 'original', 'format').textContent()).toBe('JPEG');
    expect(await fact(page, 'original', 'dimensions').textContent()).toBe('768 × 512');

    // Change the width with the keyboard: the new variant, smaller, with its savings.
    await page.locator('#w').fill('300');
    await page.locator('#w').press('Tab');
    await variantWidth(page, 320);
    const saved = Number((await fact(page, 'variant', 'saved').textContent())?.replace('%', ''));
    expect(saved).toBeGreaterThan(80);
    expect(await page.locator('#saved').textContent()).toMatch(/^\d+\.\d% smaller$/);
    expect(await fact(page, 'variant', 'first-request').textContent()).toMatch(
      /^Miss from litepix-dev, \d+ ms$/,
    );
    expect(await fact(page, 'variant', 'second-request').textContent()).toMatch(
      /^Hit from litepix-dev, \d+ ms$/,
    );
    expect(await fact(page, 'variant', 'quality').textContent()).not.toBe('n/a');
    const url = await page.locator('#url').inputValue();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/uploads\/[0-9a-f]{12}\/kodim23-q95\.jpg\?w=300$/);

    // The image the page shows is what the CDN serves for that URL.
    const served = await fetch(url, { headers: { accept: 'image/avif,image/webp,*/*' } });
    expect(served.headers.get('content-type')).toBe('image/avif');
    expect(Number(served.headers.get('content-length'))).toBe(await shownBytes(page, 'variant'));
    await page.screenshot({ path: join(ARTIFACTS, 'playground-desktop.png'), fullPage: true });
    await page.close();
    expect(errors).toEqual([]);
  });

  it('names a bad value instead of showing a stale image', async () => {
    const { page, errors } = await openPage(1280, 900);
    await variantWidth(page, 768);
    await page.locator('#q').fill('150');
    await page.locator('#q').press('Enter');
    await expect
      .poll(() => page.locator('#status').textContent(), { timeout: 30_000 })
      .toBe('Invalid quality "150": expected an integer from 1 to 100 or "auto"');
    expect(await page.locator('#status').getAttribute('class')).toBe('error');
    expect(await page.locator('#q').getAttribute('aria-invalid')).toBe('true');
    await page.close();
    expect(errors).toEqual([]);
  });

  it('crops a region (crop=, pos=), compares it with the same region of the original, and names a bad one', async () => {
    const { page, errors } = await openPage(1280, 900);
    await variantWidth(page, 768); // kodim03.png, 768 × 512
    await page.locator('#crop').fill('250,250,500,500');
    await page.locator('#crop').press('Enter');
    // The page's own answer first, so that a failure shows what it said, not only stale dimensions.
    const status = () => page.locator('#status').textContent();
    await expect.poll(status, { timeout: 60_000 }).not.toBe('Making the variant…');
    expect(await status()).toMatch(/^Done: /);
    // 250–750 ‰ of 768 × 512: x 192–576, y 128–384, at its own size.
    await variantWidth(page, 384);
    expect(await fact(page, 'variant', 'dimensions').textContent()).toBe('384 × 256');
    expect(await fact(page, 'variant', 'variant-key').textContent()).toMatch(
      /\/crop-250-250-500-500\.qauto\./,
    );
    expect(await page.locator('#split').isVisible()).toBe(true);
    expect(await page.locator('#compare-note').textContent()).toBe(
      'Same size: every pixel of the crop region of the original sits on the same pixel of the variant.',
    );
    expect(
      await page.locator('#split-original').evaluate((el) => (el as HTMLImageElement).naturalWidth),
    ).toBe(384);
    // The two layers show the same picture: their mean colours agree (the variant is lossy).
    const means = await page.evaluate(() =>
      ['split-original', 'split-variant'].map((id) => {
        const img = document.getElementById(id) as HTMLImageElement;
        const c = document.createElement('canvas');
        c.width = img.naturalWidth;
        c.height = img.naturalHeight;
        const g = c.getContext('2d') as CanvasRenderingContext2D;
        g.drawImage(img, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data;
        let sum = 0;
        for (let i = 0; i < d.length; i += 4)
          sum += (d[i] as number) + (d[i + 1] as number) + (d[i + 2] as number);
        return sum / (d.length / 4) / 3;
      }),
    );
    expect(Math.abs((means[0] as number) - (means[1] as number))).toBeLessThan(3);
    await page.locator('#pos').selectOption('top');
    await expect
      .poll(() => page.locator('#status').textContent(), { timeout: 30_000 })
      .toBe('Invalid position "top": it needs w, h and fit=cover (or fit=contain for a gravity)');
    expect(await page.locator('#pos').getAttribute('aria-invalid')).toBe('true');
    await page.close();
    expect(errors).toEqual([]);
  });

  it('pre-warms pasted Data Units and shows them rewritten, with the savings per image', async () => {
    const { page, errors } = await openPage(1280, 900);
    await variantWidth(page, 768);
    // The text area comes filled with two units over the three samples.
    await page.locator('#units-form button[type="submit"]').click();
    await expect
      .poll(() => page.locator('#units-status').textContent(), { timeout: 60_000 })
      .toMatch(/^2 of 2 units done, 0 failed; \d+ variants made, \d+ already there; /);
    const rows = await page
      .locator('#units-rows tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
      );
    expect(rows.map((r) => r.slice(0, 3))).toEqual([
      ['du-1', 'samples/kodim23.png', expect.stringMatching(/^(ok|skipped-existing)$/)],
      ['du-2', 'samples/kodim03.png', expect.stringMatching(/^(ok|skipped-existing)$/)],
      ['du-2', 'samples/kodim15.png', expect.stringMatching(/^(ok|skipped-existing)$/)],
    ]);
    for (const row of rows) expect(Number(row[5]?.replace('%', ''))).toBeGreaterThan(80);

    const rewritten = (await page.locator('#units-output').inputValue())
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rewritten[0]).toEqual({
      id: 'du-1',
      text: 'Which parrot is on the left?',
      images: [{ url: `${stack.url}/samples/kodim23.png?preset=mobile` }],
    });
    // The rewritten URL is ready before anyone asks: served from the variants bucket, no transform.
    const res = await fetch(rewritten[0].images[0].url, { headers: { accept: 'image/avif,image/webp,*/*' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/avif');
    expect(res.headers.get('x-litepix-from') ?? 'cache').not.toBe('origin');

    // A unit without images is reported, and the others still go through.
    await page
      .locator('#units-input')
      .fill('{"id": "empty", "text": "no pictures"}\n{"id": "ok", "cover": "samples/kodim15.png"}');
    await page.locator('#rewrite').selectOption('map');
    await page.locator('#units-form button[type="submit"]').click();
    await expect
      .poll(() => page.locator('#units-status').textContent(), { timeout: 60_000 })
      .toMatch(/^1 of 2 units done, 1 failed; /);
    expect(await page.locator('#units-status').getAttribute('class')).toBe('error');
    const second = (await page.locator('#units-output').inputValue()).split('\n').map((l) => JSON.parse(l));
    expect(second[1].cover).toEqual({
      thumb: `${stack.url}/samples/kodim15.png?preset=thumb`,
      mobile: `${stack.url}/samples/kodim15.png?preset=mobile`,
      full: `${stack.url}/samples/kodim15.png?preset=full`,
    });
    await page.locator('#units').screenshot({ path: join(ARTIFACTS, 'playground-data-units.png') });
    await page.close();
    expect(errors).toEqual([]);
  });

  it('fits a phone-width screen, with a label on every control', async () => {
    const { page, errors } = await openPage(375, 740);
    await variantWidth(page, 768);
    const layout = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
      unlabelled: [...document.querySelectorAll('input, select')]
        .filter((el) => (el as HTMLInputElement).labels?.length === 0)
        .map((el) => el.id),
      images: [...document.querySelectorAll('.frame img')].map((el) => el.getBoundingClientRect().width),
      // The download times read as cards: every cell inside the screen.
      times: [...document.querySelectorAll('#times td')].map((el) => el.getBoundingClientRect().right),
    }));
    expect(layout.times).toHaveLength(9);
    for (const right of layout.times) expect(right).toBeLessThanOrEqual(375);
    expect(layout.scrollWidth).toBeLessThanOrEqual(layout.innerWidth);
    expect(layout.unlabelled).toEqual([]);
    for (const width of layout.images) expect(width).toBeLessThanOrEqual(375);
    // Every control is reachable with the keyboard, in order.
    const focused: string[] = [];
    for (let i = 0; i < 14; i++) {
      await page.keyboard.press('Tab');
      focused.push(await page.evaluate(() => document.activeElement?.id ?? ''));
    }
    expect(focused).toEqual([
      'source',
      'file',
      'w',
      'h',
      'fit',
      'pos',
      'crop',
      'q',
      'f',
      'dpr',
      'maxkb',
      'accept',
      'save-data',
      'ect',
    ]);
    await page.screenshot({ path: join(ARTIFACTS, 'playground-phone.png'), fullPage: true });
    await page.close();
    expect(errors).toEqual([]);
  });

  it('on a phone: an error hides the result it replaces, and bad Data Units read as cards with a plain reason', async () => {
    const { page, errors } = await openPage(390, 844);
    await variantWidth(page, 768);
    expect(await page.locator('#result').isVisible()).toBe(true);
    // A bad value after a success: the old variant and its figures are not left under the error.
    await page.locator('#q').fill('150');
    await page.locator('#q').press('Enter');
    await expect.poll(() => page.locator('#status').getAttribute('class'), { timeout: 30_000 }).toBe('error');
    expect(await page.locator('#status').textContent()).toMatch(/^Invalid quality "150"/);
    expect(await page.locator('#result').isVisible()).toBe(false);
    // Put right, the result is back.
    await page.locator('#q').fill('auto');
    await page.locator('#w').fill('300');
    await page.locator('#w').press('Enter');
    await variantWidth(page, 320);
    expect(await page.locator('#result').isVisible()).toBe(true);

    await page
      .locator('#units-input')
      .fill('{"id": "a", "cover": "samples/kodim15.png"\n{"id": "b", "cover": "samples/kodim15.png"}');
    await page.locator('#units-form button[type="submit"]').click();
    await expect
      .poll(() => page.locator('#units-status').textContent(), { timeout: 60_000 })
      .toMatch(/^1 of 2 units done, 1 failed; /);
    const cards = await page.locator('#units-rows td').evaluateAll((tds) =>
      tds.map((td) => ({
        label: (td as HTMLElement).dataset.label,
        text: td.textContent,
        display: getComputedStyle(td).display,
        right: td.getBoundingClientRect().right,
      })),
    );
    expect(cards.find((c) => c.label === 'Status')?.text).toBe(
      `failed: Data Unit 1 (line 1) is not valid JSON: it breaks at column 43 (expected ',' or '}' after property value), just after: …"cover": "samples/kodim15.png"`,
    );
    for (const c of cards) {
      expect(c.display).toBe('grid');
      expect(c.right).toBeLessThanOrEqual(390);
    }
    expect(await page.locator('#units-result thead').boundingBox()).toMatchObject({ height: 1 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.locator('#units').screenshot({ path: join(ARTIFACTS, 'playground-phone-data-units.png') });
    await page.close();
    expect(errors).toEqual([]);
  });

  it('ignores a cross-site form POST from another page the developer opens', async () => {
    // An "evil" page on another local port (same site, other origin), as any tab could be.
    const target = `${stack.url}/__litepix/api/upload?name=planted.jpg`;
    const evil = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        `<form id="f" method="POST" enctype="text/plain" action="${target}"><input name="x" value="y"></form><script>document.getElementById('f').submit()</script>`,
      );
    });
    await new Promise<void>((ok) => evil.listen(0, '127.0.0.1', ok));
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      const answer = page.waitForResponse((r) => r.url() === target);
      await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
      const res = await answer;
      expect(res.status()).toBe(403);
      expect(await res.json()).toMatchObject({ error: 'LOCAL_CROSS_SITE' });
      await context.close();
    } finally {
      await new Promise((ok) => evil.close(ok));
    }
    const list = (await (await fetch(`${stack.url}/__litepix/api/originals`)).json()) as {
      originals: Array<{ key: string }>;
    };
    expect(list.originals.map((o) => o.key).filter((k) => k.includes('planted'))).toEqual([]);
  });
});
