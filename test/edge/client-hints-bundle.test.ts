/**
 * The client hints through the BUILT bundle, with a literal CloudFront event carrying Chrome's
 * hint headers (test/fixtures/events/viewer-request-client-hints.json): in a bare vm and inside
 * workerd (miniflare).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle, fixture, loadInVm, startInWorkerd, type WorkerdBundle } from './bundle.ts';

type Event = {
  request: { querystring: Record<string, { value: string }>; headers: Record<string, { value: string }> };
};
const event = () => fixture('viewer-request-client-hints') as Event;

/** The literal event, then variations of it, and the URI each must become. */
function cases(): Array<[string, Event, string]> {
  const urlWidth = event();
  urlWidth.request.querystring = { w: { value: '400' } };
  const fixedQ = event();
  fixedQ.request.querystring = { q: { value: '80' } };
  const fast = event();
  fast.request.headers.ect = { value: '4g' };
  fast.request.headers.rtt = { value: '50' };
  fast.request.headers.downlink = { value: '10' };
  fast.request.headers['sec-ch-width'] = { value: 'wide' };
  const legacy = event();
  delete legacy.request.headers['sec-ch-width'];
  delete legacy.request.headers['sec-ch-dpr'];
  legacy.request.headers.width = { value: '700' };
  return [
    [
      'the literal event: Sec-CH-Width 980 → w1024, ECT 3g → qlite',
      event(),
      '/v1/photos/a.jpg/w1024.qlite.avif',
    ],
    ['w=400 with Sec-CH-DPR 2.625 → 1050 → w1080', urlWidth, '/v1/photos/a.jpg/w1080.qlite.avif'],
    ['q fixed by the URL wins over the slow link', fixedQ, '/v1/photos/a.jpg/w1024.q80.avif'],
    ['a fast link and a malformed width hint', fast, '/v1/photos/a.jpg/qauto.avif'],
    ['the legacy Width header', legacy, '/v1/photos/a.jpg/w720.qlite.avif'],
  ];
}

describe('client hints in the built bundle, bare vm', () => {
  let code: string;
  beforeAll(async () => {
    code = await buildBundle({ secrets: [] });
  });
  it.each(cases())('%s', (_name, e, uri) => {
    expect(loadInVm(code, false)(e)).toMatchObject({ uri, querystring: {} });
  });
});

describe('client hints in the built bundle, inside workerd', () => {
  let worker: WorkerdBundle;
  beforeAll(async () => {
    worker = await startInWorkerd(await buildBundle({ secrets: [] }));
  });
  afterAll(async () => {
    await worker?.dispose();
  });
  it.each(cases())('%s', async (_name, e, uri) => {
    expect(await worker.run(e)).toMatchObject({ uri, querystring: {} });
  });
});
