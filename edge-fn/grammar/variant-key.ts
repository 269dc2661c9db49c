/**
 * The variant key: `<version>/<original key>/<options>.<format>`, e.g.
 * `v1/photos/a.jpg/w828.qauto.webp` or `v1/b.png/w640.h640.fit-cover.q75.png`.
 * Options in fixed order: `crop-<x>-<y>-<w>-<h>` (per-mille of the original, on the crop grid),
 * `w<n>`, `h<n>`, `fit-<fit>` (only with both w and h, and not the default `inside`),
 * `pos-<position>` (only with `fit-cover` or `fit-contain`), the quality token `q<n>`, `qauto`
 * or `qlite` (Save-Data, slow links), then `kb<n>` (byte budget). A placeholder is
 * `<version>/<original key>/[crop-….]placeholder.json`.
 * `parseVariantKey` is the inverse and accepts canonical keys only, so a request that
 * bypasses the edge cannot create a variant the edge would not. It also refuses a key whose
 * original is itself a variant key (`v1/v1/a.jpg/qauto.webp/w128.qauto.webp`): that check,
 * `checkOriginalKey`, is the one the origin and pre-warm (planner, S3 events, ingest) share.
 */
import { CROP_GRID, type GrammarConfig } from './config.ts';
import { fail, quote } from './errors.ts';
import { FITS, isError, POSITIONS } from './params.ts';
import { checkSourceKey, keyTooLong } from './source-key.ts';
import type {
  Crop,
  Fit,
  GrammarError,
  OutputFormat,
  PlaceholderSpec,
  Position,
  Quality,
  VariantSpec,
} from './types.ts';

const OUTPUT_FORMATS = ['jpeg', 'webp', 'avif', 'png'];
const SIZE_TOKEN = /^[wh][1-9][0-9]{0,4}$/;
const QUALITY_TOKEN = /^q([1-9][0-9]?|100|auto|lite)$/;
const BUDGET_TOKEN = /^kb[1-9][0-9]{0,4}$/;
const CROP_TOKEN = /^crop-(0|[1-9][0-9]{0,3})-(0|[1-9][0-9]{0,3})-([1-9][0-9]{0,3})-([1-9][0-9]{0,3})$/;
const PLACEHOLDER = 'placeholder.json';

function cropToken(crop: Crop | undefined): string {
  return crop ? `crop-${crop.x}-${crop.y}-${crop.w}-${crop.h}.` : '';
}

/** Whether a crop is canonical: on the grid, inside the image, and not the whole image. */
export function isCanonicalCrop(c: Crop): boolean {
  const g = CROP_GRID;
  return (
    c.x % g === 0 &&
    c.y % g === 0 &&
    c.w % g === 0 &&
    c.h % g === 0 &&
    c.x >= 0 &&
    c.y >= 0 &&
    c.w > 0 &&
    c.h > 0 &&
    c.x + c.w <= 1000 &&
    c.y + c.h <= 1000 &&
    !(c.w === 1000 && c.h === 1000)
  );
}

export function optionsToken(spec: VariantSpec): string {
  let out = cropToken(spec.crop);
  if (spec.width !== undefined) out += `w${spec.width}.`;
  if (spec.height !== undefined) out += `h${spec.height}.`;
  if (spec.width !== undefined && spec.height !== undefined && spec.fit !== 'inside')
    out += `fit-${spec.fit}.`;
  if (spec.position !== undefined) out += `pos-${spec.position}.`;
  out += `q${spec.quality}.`;
  if (spec.maxKb !== undefined) out += `kb${spec.maxKb}.`;
  return out + spec.format;
}

export function buildVariantKey(spec: VariantSpec, config: GrammarConfig): string {
  return `${config.version}/${spec.source}/${optionsToken(spec)}`;
}

export function buildPlaceholderKey(spec: PlaceholderSpec, config: GrammarConfig): string {
  return `${config.version}/${spec.source}/${cropToken(spec.crop)}${PLACEHOLDER}`;
}

function parseCrop(t: string): Crop | undefined {
  const m = CROP_TOKEN.exec(t);
  if (!m) return undefined;
  const crop = { x: Number(m[1]), y: Number(m[2]), w: Number(m[3]), h: Number(m[4]) };
  return isCanonicalCrop(crop) ? crop : undefined;
}

/** Placeholder key (no leading slash) → spec, for canonical keys only. */
export function parsePlaceholderKey(key: string, config: GrammarConfig): PlaceholderSpec | GrammarError {
  const long = keyTooLong(key, key);
  if (long) return long;
  const prefix = `${config.version}/`;
  if (key.slice(0, prefix.length) !== prefix) return badKey(key, `expected it to start with "${prefix}"`);
  const slash = key.lastIndexOf('/');
  if (slash < prefix.length) return badKey(key, 'expected <version>/<original key>/placeholder.json');
  const source = key.slice(prefix.length, slash);
  const unsafe = checkSourceKey(source, key);
  if (unsafe) return unsafe;
  const options = key.slice(slash + 1);
  const spec: PlaceholderSpec = { source: source };
  if (options !== PLACEHOLDER) {
    const crop =
      options.slice(-PLACEHOLDER.length - 1) === `.${PLACEHOLDER}`
        ? parseCrop(options.slice(0, -PLACEHOLDER.length - 1))
        : undefined;
    if (!crop) return badKey(key, `expected ${PLACEHOLDER} or crop-<x>-<y>-<w>-<h>.${PLACEHOLDER}`);
    spec.crop = crop;
  }
  if (checkOriginalKey(source, config))
    return badKey(key, `its original ${quote(source)} ${NOT_AN_ORIGINAL}`);
  return spec;
}

/** Whether a key names a placeholder rather than an image variant. */
export function isPlaceholderKey(key: string): boolean {
  return key.slice(-PLACEHOLDER.length) === PLACEHOLDER;
}

function badKey(key: string, why: string): GrammarError {
  return fail(400, 'IMG_BAD_KEY', `Invalid variant key ${quote(key)}: ${why}`);
}

const NOT_AN_ORIGINAL = 'is itself a variant key; variants are not originals';

/**
 * Refuses an original key that is itself a canonical variant key (`v1/a.jpg/w256.qauto.webp`):
 * a variant of it would be a variant of a variant (`v1/v1/…`), a new object to pay for each
 * time. Undefined when `source` may be an original.
 */
export function checkOriginalKey(source: string, config: GrammarConfig): GrammarError | undefined {
  const spec = parseVariantKey(source, config);
  if (isError(spec)) return undefined;
  return fail(
    400,
    'IMG_BAD_KEY',
    `Invalid original key ${quote(source)}: it ${NOT_AN_ORIGINAL} (a variant of ${quote(spec.source)}); use the original's own key`,
  );
}

/** Variant key (no leading slash) → spec, for canonical keys only. */
export function parseVariantKey(key: string, config: GrammarConfig): VariantSpec | GrammarError {
  const long = keyTooLong(key, key);
  if (long) return long;
  const prefix = `${config.version}/`;
  if (key.slice(0, prefix.length) !== prefix) return badKey(key, `expected it to start with "${prefix}"`);
  const slash = key.lastIndexOf('/');
  if (slash < prefix.length) return badKey(key, 'expected <version>/<original key>/<options>.<format>');
  const source = key.slice(prefix.length, slash);
  const unsafe = checkSourceKey(source, key);
  if (unsafe) return unsafe;
  const tokens = key.slice(slash + 1).split('.');
  const format = tokens.pop() as string;
  if (OUTPUT_FORMATS.indexOf(format) < 0) {
    return badKey(key, `unknown format ${quote(format)}: expected one of ${OUTPUT_FORMATS.join(', ')}`);
  }
  const spec: VariantSpec = {
    source: source,
    fit: 'inside',
    quality: 'auto',
    format: format as OutputFormat,
  };
  let quality: Quality | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    if (t.slice(0, 5) === 'crop-') {
      const crop = parseCrop(t);
      if (!crop || spec.crop) return badKey(key, `invalid crop ${quote(t)}`);
      spec.crop = crop;
    } else if (SIZE_TOKEN.test(t)) {
      const n = Number(t.slice(1));
      if (config.ladder.indexOf(n) < 0) return badKey(key, `${t.slice(1)} is not a size of the ladder`);
      if (t.charAt(0) === 'w') spec.width = n;
      else spec.height = n;
    } else if (t.slice(0, 4) === 'fit-' && FITS.indexOf(t.slice(4)) >= 0) {
      spec.fit = t.slice(4) as Fit;
    } else if (t.slice(0, 4) === 'pos-' && POSITIONS.indexOf(t.slice(4)) >= 0) {
      spec.position = t.slice(4) as Position;
    } else if (BUDGET_TOKEN.test(t)) {
      const kb = Number(t.slice(2));
      if (config.budgets.indexOf(kb) < 0) return badKey(key, `${kb} is not a byte budget of the grammar`);
      spec.maxKb = kb;
    } else if (QUALITY_TOKEN.test(t)) {
      const q = t.slice(1);
      quality = q === 'auto' || q === 'lite' ? q : Number(q);
    } else {
      return badKey(key, `unknown option ${quote(t)}`);
    }
  }
  if (quality === undefined) return badKey(key, 'the quality option (q<n>, qauto or qlite) is missing');
  spec.quality = quality;
  const p = spec.position;
  const anchored = spec.width !== undefined && spec.height !== undefined;
  if (
    p !== undefined &&
    !(anchored && (spec.fit === 'cover' || (spec.fit === 'contain' && p !== 'attention' && p !== 'entropy')))
  )
    return badKey(key, `pos-${p} needs both sizes and fit-cover (or fit-contain for a gravity)`);
  // One spelling per variant: anything but the canonical order and form is refused.
  if (buildVariantKey(spec, config) !== key) return badKey(key, 'options are not in canonical form');
  // A variant is never an original: a source that is itself a variant key would transform
  // variants of variants (v1/v1/…), each a new object to pay for.
  if (checkOriginalKey(source, config))
    return badKey(key, `its original ${quote(source)} ${NOT_AN_ORIGINAL}`);
  return spec;
}
