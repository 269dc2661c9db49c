/**
 * The transform validates its spec again before anything reaches sharp: the spec normally comes
 * from the grammar, but the core must be safe on its own (400 IMG_BAD_PARAM otherwise).
 */
import { CROP_GRID, LIMITS } from '../../edge-fn/grammar/config.ts';
import { POSITIONS } from '../../edge-fn/grammar/params.ts';
import type { Crop, VariantSpec } from '../../edge-fn/grammar/types.ts';
import { isCanonicalCrop } from '../../edge-fn/grammar/variant-key.ts';
import { badRequest } from '../errors.ts';

const FITS: readonly string[] = ['inside', 'cover', 'contain', 'fill', 'outside'];
const FORMATS: readonly string[] = ['jpeg', 'webp', 'avif', 'png'];
/** The largest side sharp can address. */
const MAX_SIDE = 16383;

const show = (value: unknown) => (typeof value === 'string' ? `"${value}"` : String(value));

function checkSide(name: string, value: number | undefined): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < 1 || value > MAX_SIDE) {
    throw badRequest(
      'IMG_BAD_PARAM',
      `Invalid ${name} ${show(value)}: expected an integer from 1 to ${MAX_SIDE}`,
    );
  }
}

const STRATEGIES: readonly string[] = ['attention', 'entropy'];

function checkCrop(crop: Crop | undefined): void {
  if (crop === undefined) return;
  const edges = [crop.x, crop.y, crop.w, crop.h];
  if (!edges.every((n) => Number.isInteger(n) && n >= 0) || !isCanonicalCrop(crop)) {
    throw badRequest(
      'IMG_BAD_PARAM',
      `Invalid crop ${edges.map(show).join(',')}: expected x,y,w,h in per-mille of the image, multiples of ${CROP_GRID}, ` +
        'w and h at least 10, x + w and y + h at most 1000, and not the whole image',
    );
  }
}

function checkPosition(spec: VariantSpec): void {
  const p = spec.position;
  if (p === undefined) return;
  if (!POSITIONS.includes(p)) {
    throw badRequest('IMG_BAD_PARAM', `Invalid position ${show(p)}: expected one of ${POSITIONS.join(', ')}`);
  }
  const boxed = spec.width !== undefined && spec.height !== undefined;
  if (!boxed || !(spec.fit === 'cover' || (spec.fit === 'contain' && !STRATEGIES.includes(p)))) {
    throw badRequest(
      'IMG_BAD_PARAM',
      `Invalid position ${show(p)} with fit ${show(spec.fit)}: a position needs both width and height and fit cover ` +
        '(any position) or contain (a gravity, not attention or entropy)',
    );
  }
}

export function validateSpec(spec: VariantSpec): void {
  checkSide('width', spec.width);
  checkSide('height', spec.height);
  if (!FITS.includes(spec.fit)) {
    throw badRequest('IMG_BAD_PARAM', `Invalid fit ${show(spec.fit)}: expected one of ${FITS.join(', ')}`);
  }
  const q = spec.quality;
  if (q !== 'auto' && q !== 'lite' && !(Number.isInteger(q) && q >= 1 && q <= 100)) {
    throw badRequest(
      'IMG_BAD_PARAM',
      `Invalid quality ${show(q)}: expected an integer from 1 to 100, "auto" or "lite"`,
    );
  }
  const kb = spec.maxKb;
  if (kb !== undefined && !(Number.isInteger(kb) && kb >= 1 && kb <= LIMITS.maxBudgetKb)) {
    throw badRequest(
      'IMG_BAD_PARAM',
      `Invalid byte budget ${show(kb)}: expected an integer number of KB from 1 to ${LIMITS.maxBudgetKb}`,
    );
  }
  if (!FORMATS.includes(spec.format)) {
    throw badRequest(
      'IMG_BAD_PARAM',
      `Invalid format ${show(spec.format)}: expected one of ${FORMATS.join(', ')}`,
    );
  }
  checkCrop(spec.crop);
  checkPosition(spec);
}
