/**
 * Storage faults at the worst moment, on a real s3rver over HTTP: the store stops while
 * transforms run, dies in the middle of an original's body, or answers slowly. Answers are 503
 * `no-store`, no partial or empty variant is ever stored, and the same handler serves again by
 * itself when the store is back. And 100 concurrent requests for one missing variant share one
 * transform and one object.
 */

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOriginServer } from '../../origin-fn/http-adapter.ts';
import type { ImageStore } from '../../origin-fn/image-store.ts';
import { createTransformer, DEFAULT_LIMITS } from '../../origin-fn/transform/index.ts';
import type { Transformer } from '../../origin-fn/transform/types.ts';
import { fixture } from '../helpers/images.ts';
import { type OriginStack, startOriginStack, VARIANTS } from '../helpers/origin-stack.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

const PHOTO = fixture('kodim23-q95.jpg'); // 116 KB, 768×512
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

let stack: OriginStack;
let proxy: TcpProxy;

beforeAll(async () => {
  stack = await startOriginStack();
  await stack.putOriginal('photos/kodim23.jpg', PHOTO, 'image/jpeg');
  proxy = await startTcpProxy(stack.s3.port);
});

afterAll(async () => {
  await proxy?.stop();
  await stack?.stop();
});

/** True when the variants bucket has an object at `key` (HEAD, so an empty object counts too). */
async function exists(key: string): Promise<boolean> {
  return stack.s3.client.send(new HeadObjectCommand({ Bucket: VARIANTS, Key: key })).then(
    () => true,
    () => false,
  );
}

describe('the store stops during transforms', () => {
  it('answers 503 no-store, stores no partial or empty variant, and recovers by itself', async () => {
    const real = createTransformer(DEFAULT_LIMITS);
    const keys = ['w320', 'w480', 'w640', 'w720', 'w750'].map((w) => `v1/photos/kodim23.jpg/${w}.qauto.webp`);
    // The real transformer; the store is stopped once all the transforms have started, so every
    // one of them finishes with nowhere to write (the only way to hit that instant every run).
    let started = 0;
    let release: () => void = () => undefined;
    const allStarted = new Promise<void>((ok) => {
      release = ok;
    });
    const stopsTheStore: Transformer = {
      async transform(input, spec) {
        const running = real.transform(input, spec);
        if (++started === keys.length) {
          await stack.s3.down();
          release();
        }
        await allStarted;
        return running;
      },
    };
    const during = stack.withOptions({ fastFail: true, transformer: stopsTheStore });
    try {
      const answers = await Promise.all(keys.map((key, i) => during.handle(`/${key}`, `down-${i}`)));
      for (const res of answers) {
        expect(res.status).toBe(503);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.headers['x-litepix-error']).toBe('IMG_STORAGE_UNAVAILABLE');
        expect(res.body.toString()).toBe('Image storage is temporarily unavailable; retry in a moment\n');
      }
      expect(during.transforms).toBe(keys.length);
    } finally {
      await stack.s3.up();
    }
    for (const key of keys) expect(await exists(key), key).toBe(false);

    // Same handler, same client, no restart: the store is back, so are the variants.
    const after = stack.withOptions({ fastFail: true });
    const again = await Promise.all(keys.map((key, i) => after.handle(`/${key}`, `up-${i}`)));
    for (const res of again) expect(res.status).toBe(200);
    const retried = await during.handle(`/${keys[0]}`, 'up-same');
    expect(retried.status).toBe(200);
    for (const key of keys) expect(await exists(key)).toBe(true);
  });

  it('answers 503 when the store dies in the middle of the original, and stores nothing', async () => {
    const origin = stack.withOptions({ endpoint: proxy.endpoint, fastFail: true });
    const key = 'v1/photos/kodim23.jpg/w256.q60.jpeg';
    // The variant lookup (a short 404) passes; the original's 116 KB body is cut after 20 KB.
    proxy.settings.cutAfterBytes = 20_000;
    try {
      const res = await origin.handle(`/${key}`, 'cut');
      expect(res.status).toBe(503);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(origin.transforms).toBe(0);
    } finally {
      proxy.settings.cutAfterBytes = undefined;
    }
    expect(await exists(key)).toBe(false);
    expect((await origin.handle(`/${key}`, 'cut-after')).status).toBe(200);
  });
});

describe('a slow store', () => {
  it('times out cleanly within the configured budget: 503 no-store, nothing stored, then recovers', async () => {
    const budgetMs = 300;
    const delayMs = 4000;
    const origin = stack.withOptions({ endpoint: proxy.endpoint, requestTimeoutMs: budgetMs });
    const key = 'v1/photos/kodim23.jpg/w192.qauto.webp';
    proxy.settings.delayMs = delayMs;
    let res: Awaited<ReturnType<typeof origin.handle>>;
    const lateBefore = proxy.deliveredLate;
    let lateAtAnswer: number;
    try {
      res = await origin.handle(`/${key}`, 'slow');
      lateAtAnswer = proxy.deliveredLate;
    } finally {
      proxy.settings.delayMs = 0;
    }
    expect(res.status).toBe(503);
    expect(res.headers['x-litepix-error']).toBe('IMG_TIMEOUT');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.toString()).toBe(
      `The image was not ready within ${budgetMs} ms (slow storage or a busy instance); retry in a moment\n`,
    );
    // Answered by the budget, before any byte of the store's (held back ${delayMs} ms) reached it.
    expect(lateAtAnswer).toBe(lateBefore);
    expect(origin.transforms).toBe(0);
    // Wait until every delayed answer of the aborted calls has reached its (closed) socket or
    // been dropped: only then could a late write have happened. Then nothing was written and
    // nothing was transformed late. (The wait is an upper bound, not a timing assertion.)
    await expect.poll(() => proxy.delayedChunks, { timeout: delayMs + 10_000, interval: 100 }).toBe(0);
    expect(origin.transforms).toBe(0);
    expect(await exists(key)).toBe(false);
    const again = await origin.handle(`/${key}`, 'fast-again');
    expect(again.status).toBe(200);
    expect(await exists(key)).toBe(true);
  });

  it('drops a transform that finishes after the budget: nothing stored late', async () => {
    let puts = 0;
    const counted = (store: ImageStore): ImageStore => ({
      ...store,
      putVariant: (variant, options) => {
        puts++;
        return store.putVariant(variant, options);
      },
    });
    const real = createTransformer(DEFAULT_LIMITS);
    // sharp cannot be interrupted, so a transform outlives the budget; this one is made slow
    // (the real result, 600 ms late) to show its result is dropped, not stored behind the 503.
    let finished: () => void = () => undefined;
    const done = new Promise<void>((ok) => {
      finished = ok;
    });
    const slow: Transformer = {
      async transform(input, spec) {
        const result = await real.transform(input, spec);
        await sleep(600);
        setImmediate(finished); // just after the origin has the late result
        return result;
      },
    };
    const origin = stack.withOptions({ transformer: slow, requestTimeoutMs: 200, wrapStore: counted });
    const key = 'v1/photos/kodim23.jpg/w160.qauto.webp';
    const res = await origin.handle(`/${key}`, 'slow-transform');
    expect(res).toMatchObject({ status: 503, headers: { 'x-litepix-error': 'IMG_TIMEOUT' } });
    // A retry while the dropped transform still runs does not start a second one beside it.
    const retry = await origin.handle(`/${key}`, 'slow-transform-retry');
    expect(retry).toMatchObject({ status: 503, headers: { 'x-litepix-error': 'IMG_TIMEOUT' } });
    expect(origin.transforms).toBe(1);
    // The transform has finished and handed its result back. Between that and a PUT there is no
    // I/O (produce-variant.ts), so a wrong PUT would have been called by now.
    await done;
    expect(puts).toBe(0);
    expect(origin.transforms).toBe(1);
    expect(await exists(key)).toBe(false);
  });
});

describe('100 concurrent requests for one missing variant', () => {
  let server: Server;
  beforeAll(async () => {
    server = createOriginServer(stack.origin);
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  });
  afterAll(async () => {
    await new Promise((ok) => server?.close(ok));
  });

  it('all succeed with the same image, from one transform and one stored object', async () => {
    const key = 'v1/photos/kodim23.jpg/w414.q70.webp';
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${key}`;
    const before = stack.origin.transforms;
    const answers = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const res = await fetch(url);
        return {
          status: res.status,
          etag: res.headers.get('etag'),
          body: Buffer.from(await res.arrayBuffer()),
        };
      }),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(100).fill(200));
    expect(new Set(answers.map((a) => a.etag)).size).toBe(1);
    expect((await sharp(answers[0]?.body).metadata()).width).toBe(414);
    // The handler reports its transforms: the 100 requests shared one.
    expect(stack.origin.transforms - before).toBe(1);
    expect((await stack.variantKeys()).filter((k) => k === key)).toHaveLength(1);
  });
});
