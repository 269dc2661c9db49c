import * as acorn from 'acorn';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KVS_SECRETS_KEY } from '../../edge-fn/kvs-secrets.ts';
import { signUrl } from '../../edge-fn/sign-url.ts';
import { CLOUDFRONT_FUNCTION_MAX_BYTES } from '../../scripts/build.ts';
import {
  buildBundle,
  forbiddenSyntax,
  inMemoryCloudFront,
  inMemoryCloudFrontModule,
  KVS_IMPORTS,
  loadKvsBundleInVm,
} from './bundle.ts';

const OLD = 'old-secret-0123456789abcdef';
const NEW = 'new-secret-0123456789abcdef';

let code: string;

beforeAll(async () => {
  code = await buildBundle(undefined, 'kvs');
});

/** A viewer request for `/photos/a.jpg?w=800[&s=…]`, signed with `secret` when given. */
function event(secret?: string, w = '800') {
  const querystring: Record<string, { value: string }> = { w: { value: w } };
  if (secret) {
    const url = signUrl('/photos/a.jpg', { w: 800 }, secret);
    querystring.s = { value: url.slice(url.indexOf('s=') + 2) };
  }
  return { version: '1.0', request: { method: 'GET', uri: '/photos/a.jpg', querystring, headers: {} } };
}

describe('the viewer bundle with secrets in a CloudFront KeyValueStore', () => {
  it(`fits CloudFront's ${CLOUDFRONT_FUNCTION_MAX_BYTES}-byte limit and holds no secret`, () => {
    expect(Buffer.byteLength(code)).toBeLessThanOrEqual(CLOUDFRONT_FUNCTION_MAX_BYTES);
    expect(code).not.toContain('secret-0123456789');
    expect(code).toContain(JSON.stringify(KVS_SECRETS_KEY));
  });

  it('is a module importing only crypto and cloudfront, with a top-level async handler', () => {
    expect(code.startsWith(`${KVS_IMPORTS}var _kvs=cf.kvs();`)).toBe(true);
    const ast = acorn.parse(code, { ecmaVersion: 2020, sourceType: 'module' });
    const imports = ast.body.flatMap((n) => (n.type === 'ImportDeclaration' ? [n.source.value] : []));
    expect(imports).toEqual(['crypto', 'cloudfront']);
    const handler = ast.body.find((n) => n.type === 'FunctionDeclaration' && n.id?.name === 'handler');
    expect(handler).toMatchObject({ async: true });
    expect(ast.body.some((n) => n.type.startsWith('Export'))).toBe(false);
    expect(forbiddenSyntax(ast)).toEqual([]);
  });

  it('refuses to bake secrets into a KeyValueStore bundle', async () => {
    await expect(buildBundle({ secrets: [NEW] }, 'kvs')).rejects.toThrow(/remove "secrets"/);
  });

  describe('in a bare vm context with an in-memory cloudfront module', () => {
    const values = new Map<string, string>();
    let handler: (event: unknown) => Promise<unknown>;

    beforeAll(() => {
      handler = loadKvsBundleInVm(code, inMemoryCloudFront(values));
    });

    it('accepts a URL signed with either secret during a rotation, and nothing else', async () => {
      values.set(KVS_SECRETS_KEY, JSON.stringify([NEW, OLD]));
      for (const secret of [NEW, OLD]) {
        expect(await handler(event(secret))).toMatchObject({ uri: '/v1/photos/a.jpg/w828.qauto.jpeg' });
      }
      expect(await handler(event())).toMatchObject({
        statusCode: 403,
        headers: {
          'x-litepix-error': { value: 'IMG_BAD_SIGNATURE' },
          'cache-control': { value: 'no-store' },
        },
      });
      expect(await handler(event('another-secret-0123456789'))).toMatchObject({ statusCode: 403 });
      expect(await handler(event(NEW, '801'))).toMatchObject({ statusCode: 403 });
    });

    it('follows a KeyValueStore update without new code: the retired secret stops working', async () => {
      values.set(KVS_SECRETS_KEY, JSON.stringify([NEW]));
      expect(await handler(event(NEW))).toMatchObject({ uri: '/v1/photos/a.jpg/w828.qauto.jpeg' });
      expect(await handler(event(OLD))).toMatchObject({ statusCode: 403 });
    });

    it.each([
      ['the key is missing', undefined],
      ['the value is not JSON', 'new-secret-0123456789abcdef'],
      ['the list is empty', '[]'],
      ['a secret is shorter than 16 characters', JSON.stringify([NEW, 'short'])],
    ])('answers 503 and serves nothing when %s', async (_, value) => {
      if (value === undefined) values.delete(KVS_SECRETS_KEY);
      else values.set(KVS_SECRETS_KEY, value);
      // Even a request signed with a once-valid secret is refused: signing never turns off by accident.
      expect(await handler(event(NEW))).toMatchObject({
        statusCode: 503,
        statusDescription: 'Service Unavailable',
        headers: {
          'cache-control': { value: 'no-store' },
          'x-litepix-error': { value: 'IMG_SIGNING_UNAVAILABLE' },
        },
        body: { data: 'Signing is on but no valid secrets are configured\n' },
      });
    });
  });

  describe('inside workerd (miniflare) as an ES module, with an in-memory cloudfront module', () => {
    let mf: Miniflare;

    beforeAll(async () => {
      mf = new Miniflare({
        modules: [
          {
            type: 'ESModule',
            path: '/edge/viewer-request.mjs',
            // The bundle runs unchanged; a default export turns a POSTed event into a call.
            contents: `${code}
export default { async fetch(request) { return Response.json(await handler(await request.json())); } };`,
          },
          {
            type: 'ESModule',
            path: '/edge/cloudfront',
            contents: inMemoryCloudFrontModule({ [KVS_SECRETS_KEY]: JSON.stringify([NEW, OLD]) }),
          },
        ],
        modulesRoot: '/edge',
        compatibilityDate: '2025-01-01',
        // workerd's `crypto` module (node:crypto) plays the runtime's crypto.
        compatibilityFlags: ['nodejs_compat'],
        host: '127.0.0.1',
        port: 0,
      });
      await mf.ready;
    });

    afterAll(async () => {
      await mf?.dispose();
    });

    it.each([
      ['signed with the new secret', NEW, { uri: '/v1/photos/a.jpg/w828.qauto.jpeg' }],
      ['signed with the old secret', OLD, { uri: '/v1/photos/a.jpg/w828.qauto.jpeg' }],
      ['unsigned', undefined, { statusCode: 403 }],
    ])('%s', async (_, secret, expected) => {
      const res = await mf.dispatchFetch('http://edge.test/', {
        method: 'POST',
        body: JSON.stringify(event(secret)),
      });
      expect(await res.json()).toMatchObject(expected);
    });
  });
});
