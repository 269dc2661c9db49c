/**
 * Query parameters: names, aliases, validators and the canonical text of each value.
 * Every validator returns the canonical string or a GrammarError whose message names the
 * parameter, quotes the value received and says what is allowed.
 */
import { CROP_GRID, type GrammarConfig, MAX_BUDGET_KB, MAX_PARAMS } from './config.ts';
import { badParam, quote } from './errors.ts';
import { lower } from './text.ts';
import type { GrammarError } from './types.ts';

export type ParamName =
  | 'w'
  | 'h'
  | 'dpr'
  | 'fit'
  | 'pos'
  | 'crop'
  | 'q'
  | 'f'
  | 'maxkb'
  | 'preset'
  | 'exp'
  | 's';

/**
 * Every parameter as `short` or `short long` (both spellings accepted), in the order error
 * messages list them. `s` (signature) is accepted in signed mode only.
 */
const NAMES = 'w width,h height,dpr,fit,pos position,crop,q quality,f format,maxkb,preset,exp';

/** Canonical (short) names by every accepted spelling, lower-case. */
const ALIASES: Record<string, ParamName> = { s: 's' };
export const LONG_NAMES = { s: 'signature' } as Record<ParamName, string>;
const pairs = NAMES.split(',');
for (let i = 0; i < pairs.length; i++) {
  const pair = (pairs[i] as string).split(' ');
  const short = pair[0] as ParamName;
  ALIASES[short] = short;
  ALIASES[pair[1] || short] = short;
  LONG_NAMES[short] = pair[1] || short;
}

export const FITS = ['inside', 'cover', 'contain', 'fill', 'outside'];
export const FORMATS = ['auto', 'jpeg', 'webp', 'avif', 'png'];
/**
 * Where `fit=cover`/`contain` anchors the image (key token `pos-<p>`): the eight gravities, and
 * for `cover` only sharp's two strategies. One string, split: shorter in the edge bundle.
 */
export const POSITIONS =
  'top,right,bottom,left,top-left,top-right,bottom-left,bottom-right,attention,entropy'.split(',');
/** `pos=` also takes the default, `center`, which adds no key token. */
const POS_VALUES = POSITIONS.concat('center');

const ALLOWED_TEXT = NAMES.replace(/ ([a-z]+)/g, ' ($1)')
  .split(',')
  .join(', ');

export function canonicalName(name: string, signing: boolean): ParamName | GrammarError {
  const low = lower(name);
  const known = Object.hasOwn(ALIASES, low) ? ALIASES[low] : undefined;
  if (known === undefined || (known === 's' && !signing)) {
    return badParam(
      `Unknown parameter ${quote(name)}: expected one of ${ALLOWED_TEXT}${signing ? ', s' : ''}`,
    );
  }
  return known;
}

const DIGITS = /^[0-9]+$/;
const DECIMAL = /^[0-9]+(\.[0-9]+)?$/;

/** The 400 for one value: it names the parameter, quotes the value and says what is allowed. */
function invalid(name: ParamName, value: string, expected: string): GrammarError {
  return badParam(`Invalid ${LONG_NAMES[name]} ${quote(value)}: expected ${expected}`);
}

/** A plain decimal number (`2.625`, `150`; at most 13 characters), NaN otherwise. */
export function decimal(text: string): number {
  return DECIMAL.test(text) && text.length <= 13 ? Number(text) : Number.NaN;
}

/** An integer in [min, max] (leading zeros allowed, at most 12 digits), NaN otherwise. */
function integer(value: string, min: number, max: number): number {
  const n = DIGITS.test(value) && value.length <= 12 ? Number(value) : Number.NaN;
  return n >= min && n <= max ? n : Number.NaN;
}

/** An integer in [min, max] as canonical text (no leading zeros), or the 400 saying `expected`. */
function ranged(name: ParamName, value: string, min: number, max: number, expected: string) {
  const n = integer(value, min, max);
  return n >= min ? String(n) : invalid(name, value, expected);
}

/** One of `allowed`, case-insensitive → its lower-case form. */
function oneOf(name: ParamName, value: string, allowed: string[], note: string): string | GrammarError {
  const low = lower(value);
  return allowed.indexOf(low) < 0 ? invalid(name, value, `one of ${allowed.join(', ')}${note}`) : low;
}

/**
 * `crop=x,y,w,h` in per-mille of the original's width and height (so it survives a re-upload at
 * another resolution) → `x,y,w,h` on the crop grid: the near edges snap down, the far edges up,
 * so the region asked for is inside the one produced. '' is the whole image (no crop).
 */
function validateCrop(value: string): string | GrammarError {
  const n = value.split(',').map((t) => integer(t.trim(), 0, 1000));
  const x = n[0] as number;
  const y = n[1] as number;
  const w = n[2] as number;
  const h = n[3] as number;
  // NaN (not an integer from 0 to 1000) and undefined (fewer than four) fail every comparison.
  if (!(n.length === 4 && w > 0 && h > 0 && x + w <= 1000 && y + h <= 1000))
    return invalid(
      'crop',
      value,
      'x,y,w,h in per-mille of the image (integers, w and h > 0, x + w and y + h <= 1000), e.g. 0,250,1000,500',
    );
  const g = CROP_GRID;
  const left = x - (x % g);
  const top = y - (y % g);
  const crop = `${left},${top},${Math.ceil((x + w) / g) * g - left},${Math.ceil((y + h) / g) * g - top}`;
  return crop === '0,0,1000,1000' ? '' : crop;
}

/** `maxkb=` → the largest budget of the ladder at or below it (KB). */
function validateBudget(value: string, budgets: number[]): string | GrammarError {
  const n = integer(value, 1, MAX_BUDGET_KB);
  if (!(n >= 1)) return invalid('maxkb', value, `an integer number of KB from 1 to ${MAX_BUDGET_KB}`);
  let snapped = 0;
  for (let i = 0; i < budgets.length; i++) if ((budgets[i] as number) <= n) snapped = budgets[i] as number;
  return snapped > 0
    ? String(snapped)
    : invalid('maxkb', value, `at least ${budgets[0]}, the smallest budget`);
}

/** The canonical text of one parameter's value, or the error for it. */
export function validateValue(
  name: ParamName,
  value: string,
  config: GrammarConfig,
  presetNames: string[],
): string | GrammarError {
  switch (name) {
    case 'w':
    case 'h': {
      const max = config.ladder[config.ladder.length - 1] as number;
      return ranged(name, value, 1, max, `an integer from 1 to ${max}`);
    }
    case 'maxkb':
      return validateBudget(value, config.budgets);
    case 'dpr': {
      const n = decimal(value);
      return n >= 1 && n <= 4 ? String(n) : invalid(name, value, 'a number from 1 to 4');
    }
    case 'fit':
      return oneOf(name, value, FITS, '');
    case 'pos':
      return oneOf(name, value, POS_VALUES, '');
    case 'crop':
      return validateCrop(value);
    case 'q':
      return lower(value) === 'auto'
        ? 'auto'
        : ranged(name, value, 1, 100, 'an integer from 1 to 100 or "auto"');
    case 'f':
      return oneOf(name, lower(value) === 'jpg' ? 'jpeg' : value, FORMATS, ' (jpg = jpeg)');
    case 'preset':
      return presetNames.length > 0
        ? oneOf(name, value, presetNames, '')
        : badParam(`Invalid preset ${quote(value)}: no presets are configured`);
    case 'exp':
      // Unix seconds; 12 digits at most (year 33658), so Number() stays exact.
      return ranged(name, value, 0, 1e12, 'a time in Unix seconds, e.g. 1767225600');
    default:
      return value;
  }
}

export function tooManyParams(count: number): GrammarError {
  return badParam(`Too many parameters (${count}): expected at most ${MAX_PARAMS}`);
}

export function isError(value: unknown): value is GrammarError {
  return typeof value === 'object' && value !== null && (value as GrammarError).ok === false;
}
