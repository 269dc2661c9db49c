/**
 * Every planned variant of one original from one decode: the pre-warm's path (the origin's
 * single-variant path is `transform`, through the same steps). The source is probed once; each
 * distinct size is decoded once and shared by all its formats; and a smaller `inside` size is
 * derived from the pixels of the next larger one (a pyramid) instead of decoding the
 * source again: a 12 MP JPEG pre-warmed at 1920, 828 and 256 px in three formats is decoded once
 * instead of nine times. The variants are then encoded smallest first, and each quality search
 * starts from what the searches before it learnt about this image (quality-hints.ts): a 256 px
 * search is cheap and tells the 1920 px one where to start. Each spec's outcome is its own: a
 * spec the limits refuse fails alone.
 */
import sharp from 'sharp';
import type { VariantSpec } from '../../edge-fn/grammar/types.ts';
import type { RawPixels } from './encode.ts';
import type { TransformLimits } from './limits.ts';
import { probeSource, type SourceInfo } from './probe-source.ts';
import { createQualityHints, type QualityHints } from './quality-hints.ts';
import { type Geometry, planGeometry, type ResizePlan } from './resize-plan.ts';
import {
  decodableInput,
  finishVariant,
  isTransparent,
  keepsAnimation,
  type Prepared,
  prepareFor,
} from './transform.ts';
import type { TransformOutcome } from './types.ts';
import { validateSpec } from './validate-spec.ts';

const isInside = (plan: ResizePlan | undefined) => plan === undefined || plan.fit === 'inside';

/** The output area a geometry gives (an upper bound for `inside`): larger sizes are decoded first. */
function area({ size, plan }: Geometry): number {
  if (plan === undefined) return size.width * size.height;
  if (plan.fit !== 'inside') return plan.width * plan.height;
  const scale = Math.min(1, plan.width / size.width, plan.height / size.height);
  return size.width * size.height * scale * scale;
}

/**
 * The pixels of `base` resized into `plan`'s box (an `inside` plan of the same source): a step
 * of the pyramid (tested against a direct decode at that size in transform-many.test.ts).
 */
export async function derive(base: Prepared, plan: ResizePlan | undefined): Promise<Prepared> {
  const start = performance.now();
  const { data, width, height, channels } = base.decoded.pixels;
  if (plan === undefined || (width <= plan.width && height <= plan.height)) return base;
  const out = await sharp(data, { raw: { width, height, channels } })
    .resize({ width: plan.width, height: plan.height, fit: 'inside', withoutEnlargement: true })
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const decoded = {
    pixels: { data: out.data, width: out.info.width, height: out.info.height, channels },
    width: out.info.width,
    height: out.info.height,
  };
  const transparent = base.transparent ? await isTransparent(decoded) : false;
  return { decoded, transparent, decodeMs: performance.now() - start };
}

export interface TransformManyOptions {
  /** Start each quality search from what the image's earlier searches chose (default true). */
  reuseQuality?: boolean | undefined;
  /** Where the searches' learning goes (default: a fresh createQualityHints()); for tests and benches. */
  hints?: QualityHints | undefined;
  /** The grammar's size ladder, which byte budgets step down (default: the default grammar's). */
  ladder?: readonly number[] | undefined;
  /**
   * Called once the sizes are decoded, with the smallest still `inside` level of the whole
   * image (upright sRGB pixels, no crop) and the source's size: the pre-warm draws its
   * placeholder from them instead of decoding again. Not called when no such level was decoded.
   */
  onStill?: ((pixels: RawPixels, source: SourceInfo) => void) | undefined;
}

export async function transformMany(
  input: Buffer,
  specs: VariantSpec[],
  limits: TransformLimits,
  options: TransformManyOptions = {},
): Promise<TransformOutcome[]> {
  let source: SourceInfo;
  let decodable: Buffer;
  try {
    source = await probeSource(input, limits);
    decodable = await decodableInput(input, source, limits);
  } catch (error) {
    return specs.map(() => ({ ok: false, error }));
  }
  const outcomes: TransformOutcome[] = new Array(specs.length);
  const geometries = specs.map((spec) => planGeometry(source, spec, limits.maxOutputDimension));
  const order = specs
    .map((_, i) => i)
    .sort((a, b) => area(geometries[b] as Geometry) - area(geometries[a] as Geometry));
  const decodes = new Map<string, Prepared>();
  const ready: Array<{ prepared: Prepared; animated: boolean } | undefined> = new Array(specs.length);
  // Per region (the whole image, or a crop's), the smallest `inside` still prepared so far: the
  // next smaller size of that region derives from it (each step of the pyramid from the one
  // above: 1920 → 828 → 256 px; 256 px straight from 1920 px strays from a direct resize by up
  // to 1.0, one step at a time by at most about 0.4).
  const bases = new Map<string, Prepared>();
  let whole: Prepared | undefined;
  for (const i of order) {
    const spec = specs[i] as VariantSpec;
    const { region, plan } = geometries[i] as Geometry;
    try {
      validateSpec(spec);
      const animated = keepsAnimation(source, spec, limits);
      const regionKey = JSON.stringify(region ?? null);
      const key = JSON.stringify([region, plan, animated, spec.format === 'jpeg' && plan?.fit === 'contain']);
      let prepared = decodes.get(key);
      if (prepared === undefined) {
        const still = !animated && isInside(plan);
        const base = bases.get(regionKey);
        prepared =
          still && base !== undefined
            ? await derive(base, plan)
            : await prepareFor(decodable, source, spec, animated, limits);
        decodes.set(key, prepared);
        if (still) bases.set(regionKey, prepared);
        if (still && region === undefined) whole = prepared;
      }
      ready[i] = { prepared, animated };
    } catch (error) {
      outcomes[i] = { ok: false, error };
    }
  }
  if (whole !== undefined) options.onStill?.(whole.decoded.pixels, source);
  const hints = options.reuseQuality === false ? undefined : (options.hints ?? createQualityHints());
  for (const i of [...order].reverse()) {
    const made = ready[i];
    if (made === undefined) continue;
    try {
      outcomes[i] = {
        ok: true,
        result: await finishVariant(
          input,
          source,
          specs[i] as VariantSpec,
          made.prepared,
          made.animated,
          limits,
          hints,
          options.ladder,
        ),
      };
    } catch (error) {
      outcomes[i] = { ok: false, error };
    }
  }
  return outcomes;
}
