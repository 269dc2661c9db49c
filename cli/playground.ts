/**
 * The playground's server side, local stack only (never deployed): the page and its assets,
 * the list of originals, uploads into the originals bucket, an original's bytes with its
 * header facts, and CDN URLs built by the same code as `litepix url` (signed when secrets are
 * set) with the variant key the edge makes of them (playground-viewer.ts), and the grammar's
 * byte budgets. Uploads are checked exactly like the origin checks a source (probeSource), so
 * what the page accepts the CDN can serve.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isError } from '../edge-fn/grammar/params.ts';
import { checkSourceKey } from '../edge-fn/grammar/source-key.ts';
import { parseVariantKey } from '../edge-fn/grammar/variant-key.ts';
import type { EdgeConfig } from '../edge-fn/viewer-handler.ts';
import { badRequest, type ImageError, notFound, toImageError, tooLarge } from '../origin-fn/errors.ts';
import type { LocalRoute, RouteResponse } from '../origin-fn/http-adapter.ts';
import type { Log } from '../origin-fn/log.ts';
import { storeLog } from '../origin-fn/log.ts';
import { BodyTooLargeError, readCapped } from '../origin-fn/read-capped.ts';
import { SOURCE_CONTENT_TYPES } from '../origin-fn/transform/formats.ts';
import type { TransformLimits } from '../origin-fn/transform/index.ts';
import { probeSource } from '../origin-fn/transform/probe-source.ts';
import { cropRegion, type Region } from '../origin-fn/transform/resize-plan.ts';
import type { Transformer } from '../origin-fn/transform/types.ts';
import { readPrewarmConfig } from '../prewarm/config.ts';
import { unitsFromText } from '../prewarm/input.ts';
import { createS3PrewarmStore } from '../prewarm/prewarm-store.ts';
import { createPrewarmer } from '../prewarm/prewarmer.ts';
import type { UnitResult } from '../prewarm/types.ts';
import { playgroundRefusal } from './playground-guard.ts';
import {
  ECT_VALUES,
  edgeSupport,
  VIEWER_HEADERS,
  type ViewerHeaders,
  viewerKey,
} from './playground-viewer.ts';
import { checkedUrl } from './url.ts';
import { UsageError } from './usage-error.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const PLAYGROUND_PREFIX = '/__litepix/';
/** Most originals the page lists (the bucket may hold more; the page says so). */
export const LIST_LIMIT = 500;
/** The Data Unit view is a demo: a few units at a time (`litepix prewarm` takes millions). */
export const PREWARM_MAX_UNITS = 50;
export const PREWARM_MAX_BYTES = 1024 * 1024;
const URL_PARAMS = ['w', 'h', 'dpr', 'fit', 'pos', 'crop', 'q', 'f', 'maxkb'];
/** The largest side `source-width`/`source-height` may give (JPEG's and WebP's own ceiling is lower). */
const MAX_SOURCE_SIDE = 65_535;

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/__litepix/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/__litepix/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/__litepix/compare.js': { file: 'compare.js', type: 'text/javascript; charset=utf-8' },
  '/__litepix/network.js': { file: 'network.js', type: 'text/javascript; charset=utf-8' },
  '/__litepix/variant-facts.js': { file: 'variant-facts.js', type: 'text/javascript; charset=utf-8' },
  '/__litepix/crop-region.js': { file: 'crop-region.js', type: 'text/javascript; charset=utf-8' },
};

export interface PlaygroundDeps {
  client: S3Client;
  /** The S3 endpoint (path style), so `<endpoint>/<bucket>/<key>` references are recognised. */
  s3Endpoint: string;
  originalsBucket: string;
  variantsBucket: string;
  limits: TransformLimits;
  edge: EdgeConfig;
  transformer: Transformer;
  log: Log;
}

const json = (status: number, value: unknown): RouteResponse => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  body: `${JSON.stringify(value)}\n`,
});

const failure = (error: ImageError): RouteResponse =>
  json(error.status, {
    error: error.code,
    message: error.status === 500 ? 'Internal error' : error.message,
  });

/** Reads a request body, refusing (413) as soon as it passes `max` bytes. */
async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  const refuse = () =>
    tooLarge('IMG_TOO_LARGE', `The upload is over ${max} bytes, the limit. Upload a smaller file.`);
  if (declared > max) throw refuse();
  try {
    return await readCapped(req, max);
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw refuse();
    throw err;
  }
}

/**
 * Where an upload is stored: `uploads/<first 12 hex of its SHA-256>/<file name>`. Content
 * addressed, because variants are cached as immutable: a new upload under an old key would
 * keep serving the old variants.
 */
export function uploadKey(name: string, bytes: Buffer): string {
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
  const base = name.split(/[\\/]/).pop() ?? '';
  const safe = base
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}._-]+/gu, '-')
    .replace(/^[.-]+/, '')
    .slice(-80);
  return `uploads/${hash}/${safe || 'image'}`;
}

export function createPlaygroundRoutes(deps: PlaygroundDeps): LocalRoute {
  const { client, originalsBucket: Bucket, limits, edge } = deps;
  const prewarmStore = createS3PrewarmStore({
    client,
    originalsBucket: Bucket,
    variantsBucket: deps.variantsBucket,
    log: storeLog(deps.log),
  });
  const assets = new Map<string, { body: Buffer; type: string }>();
  for (const [path, asset] of Object.entries(ASSETS)) {
    assets.set(path, { body: readFileSync(resolve(root, 'playground', asset.file)), type: asset.type });
  }

  async function list(): Promise<RouteResponse> {
    const out = await client.send(new ListObjectsV2Command({ Bucket, MaxKeys: LIST_LIMIT }));
    const originals = (out.Contents ?? []).map((o) => ({ key: o.Key ?? '', bytes: o.Size ?? 0 }));
    return json(200, { originals, truncated: out.IsTruncated === true });
  }

  async function uploadOne(req: IncomingMessage, url: URL): Promise<RouteResponse> {
    const name = url.searchParams.get('name') ?? '';
    if (name === '' || name.length > 255) {
      throw badRequest('IMG_BAD_PARAM', 'Invalid name: expected the file name, 1 to 255 characters');
    }
    const bytes = await readBody(req, limits.maxSourceBytes);
    const info = await probeSource(bytes, limits);
    const key = uploadKey(name, bytes);
    await client.send(
      new PutObjectCommand({ Bucket, Key: key, Body: bytes, ContentType: SOURCE_CONTENT_TYPES[info.format] }),
    );
    return json(201, {
      key,
      bytes: bytes.length,
      format: info.format,
      width: info.width,
      height: info.height,
    });
  }

  async function original(url: URL): Promise<RouteResponse> {
    const key = url.searchParams.get('key') ?? '';
    const bad = checkSourceKey(key, key);
    if (bad) throw badRequest('IMG_BAD_KEY', bad.message);
    const out = await client
      .send(new GetObjectCommand({ Bucket, Key: key }))
      .catch((err: { name?: string }) => {
        if (err.name === 'NoSuchKey') throw notFound(`No original at "${key}"`, err);
        throw err;
      });
    const bytes = Buffer.from(
      await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    const info = await probeSource(bytes, limits);
    return {
      status: 200,
      headers: {
        'content-type': SOURCE_CONTENT_TYPES[info.format],
        'cache-control': 'no-store',
        'x-litepix-format': info.format,
        'x-litepix-width': String(info.width),
        'x-litepix-height': String(info.height),
      },
      body: bytes,
    };
  }

  function baseOf(url: URL): string {
    const base = url.searchParams.get('base') ?? '';
    if (!/^https?:\/\/[^/?#]+$/.test(base)) {
      throw badRequest('IMG_BAD_PARAM', `Invalid base "${base}": expected http(s)://host[:port]`);
    }
    return base;
  }

  /** Pre-warms the Data Units of the body with the default presets; answers reports and rewritten units. */
  async function prewarm(req: IncomingMessage, url: URL): Promise<RouteResponse> {
    const base = baseOf(url);
    const rewrite = url.searchParams.get('rewrite') ?? 'preset';
    if (rewrite !== 'preset' && rewrite !== 'map') {
      throw badRequest('IMG_BAD_PARAM', `Invalid rewrite "${rewrite}": expected preset or map`);
    }
    const text = (await readBody(req, PREWARM_MAX_BYTES)).toString('utf8');
    const items = unitsFromText(text);
    if (items.length === 0 || items.length > PREWARM_MAX_UNITS) {
      throw badRequest(
        'IMG_BAD_PARAM',
        `Invalid Data Units: expected 1 to ${PREWARM_MAX_UNITS} (one JSON object, an array, or NDJSON), got ${items.length}; use \`litepix prewarm\` for more`,
      );
    }
    const config = readPrewarmConfig({
      AWS_REGION: 'us-east-1',
      LITEPIX_ORIGINALS_BUCKET: Bucket,
      LITEPIX_VARIANTS_BUCKET: deps.variantsBucket,
      // The same config file the edge bundle was built from (presets and grammar).
      LITEPIX_CONFIG: process.env.LITEPIX_CONFIG,
      LITEPIX_CDN_BASE: base,
      LITEPIX_PREWARM_REWRITE: rewrite,
    });
    const prewarmer = createPrewarmer({
      store: prewarmStore,
      transformer: deps.transformer,
      settings: {
        ...config,
        grammar: edge.grammar,
        limits,
        s3Endpoint: deps.s3Endpoint,
        signingSecret: edge.secrets[0],
      },
      log: deps.log,
    });
    const results: UnitResult[] = [];
    const totals = await prewarmer.run(items, (result) => {
      results.push(result);
    });
    return json(200, { totals, results });
  }

  /** The grammar's budgets, the ECT values the page offers, and what this edge does with them. */
  const support = edgeSupport(edge);
  function config(): RouteResponse {
    return json(200, { budgets: edge.grammar.budgets, ect: ECT_VALUES, supports: support });
  }

  /**
   * The CDN URL of a variant (as `litepix url` builds it) and the variant key the edge makes of
   * it with the viewer headers given as `accept`, `save-data` and `ect`.
   */
  function variantUrl(url: URL): RouteResponse {
    const key = url.searchParams.get('key') ?? '';
    const base = baseOf(url);
    const params: Record<string, string> = {};
    for (const name of URL_PARAMS) {
      const value = url.searchParams.get(name);
      if (value !== null && value !== '') params[name] = value;
    }
    const headers: ViewerHeaders = {};
    for (const name of VIEWER_HEADERS) {
      const value = url.searchParams.get(name);
      if (value !== null && value !== '') headers[name] = value;
    }
    if (headers.ect !== undefined && !ECT_VALUES.includes(headers.ect)) {
      throw badRequest('IMG_BAD_PARAM', `Invalid ect "${headers.ect}": expected ${ECT_VALUES.join(', ')}`);
    }
    let cdn: string;
    try {
      cdn = checkedUrl(key, params, base, edge);
    } catch (err) {
      if (err instanceof UsageError) {
        throw badRequest('IMG_BAD_PARAM', err.message.replace(/^url: /, ''));
      }
      throw err;
    }
    const viewed = viewerKey(cdn, headers, edge);
    if (!viewed.ok) throw badRequest('IMG_BAD_PARAM', viewed.message);
    return json(200, { url: cdn, key: viewed.key, region: cropOf(viewed.key, url) });
  }

  /**
   * For a crop variant, the pixels of the original it is made from (`cropRegion`, as the origin
   * cuts them), given the original's size as displayed (`source-width`, `source-height`): the
   * page compares the variant with that region. Null without a crop or a size.
   */
  function cropOf(key: string, url: URL): Region | null {
    const spec = parseVariantKey(key, edge.grammar);
    const width = Number(url.searchParams.get('source-width'));
    const height = Number(url.searchParams.get('source-height'));
    const sized = [width, height].every((n) => Number.isInteger(n) && n >= 1 && n <= MAX_SOURCE_SIDE);
    return !isError(spec) && spec.crop && sized ? cropRegion({ width, height }, spec.crop) : null;
  }

  return async (req) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const method = req.method ?? 'GET';
    const asset = assets.get(url.pathname);
    if (!asset && !url.pathname.startsWith(PLAYGROUND_PREFIX)) return undefined;
    const refused = playgroundRefusal(req);
    if (refused) return json(403, { error: refused.code, message: refused.message });
    if (asset && (method === 'GET' || method === 'HEAD')) {
      return {
        status: 200,
        headers: { 'content-type': asset.type, 'cache-control': 'no-cache' },
        body: asset.body,
      };
    }
    const route = `${method} ${url.pathname.slice(PLAYGROUND_PREFIX.length)}`;
    try {
      switch (route) {
        case 'GET api/originals':
          return await list();
        case 'POST api/upload':
          return await uploadOne(req, url);
        case 'GET api/original':
          return await original(url);
        case 'GET api/config':
          return config();
        case 'GET api/url':
          return variantUrl(url);
        case 'POST api/prewarm':
          return await prewarm(req, url);
        default:
          return json(404, {
            error: 'NOT_FOUND',
            message: `No playground route ${route}: expected GET api/originals, POST api/upload?name=…, GET api/original?key=…, GET api/config, GET api/url?key=…, POST api/prewarm?base=…`,
          });
      }
    } catch (err) {
      const error = toImageError(err);
      if (error.status >= 500) console.error(err);
      return failure(error);
    }
  };
}
