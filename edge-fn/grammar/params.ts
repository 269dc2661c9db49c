/**
 * Query parameters: names, aliases, validators and the canonical text of each value.
 * Every validator returns the canonical string or a GrammarError whose message names the
 * parameter, quotes the value received and says what is allowed.
 */
import { type GrammarConfig, MAX_BUDGET_KB, MAX_PARAMS } from './config.ts';
import { badParam, quote } from './errors.ts';
import type { GrammarError } from './types.ts';

export type ParamName = 'w' | 'h' | 'dpr' | 'fit' | 'q' | 'f' | 'maxkb' | 'preset' | 'exp' | 's';

/**
 * Every parameter as `short` or `short long` (both spellings accepted), in the order error
 * messages list them. `s` (signature) is accepted in signed mode only.
 */
const NAMES = 'w width,h height,dpr,fit,q quality,f format,maxkb,preset,exp';

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

const ALLOWED_TEXT = NAMES.replace(/ ([a-z]+)/g, ' ($1)')
  .split(',')
  .join(', ');

export function canonicalName(name: string, signing: boolean): ParamName | GrammarError {
  const lower = name.toLowerCase();
  const known = Object.hasOwn(ALIASES, lower) ? ALIASES[lower] : undefined;
  if (known === undefined || (known === 's' && !signing)) {
    return badParam(
      `Unknown parameter ${quote(name)}: expected one of ${ALLOWED_TEXT}${signing ? ', s' : ''}`,
    );
  }
  return known;
}

const DIGITS = /^[0-9]+$/;
const DECIMAL = /^[0-9]+(\.[0-9]+)?$/;

/** An integer in [1, max], leading zeros allowed; canonical text has none. */
export function validateSize(name: ParamName, value: string, max: number): string | GrammarError {
  const n = DIGITS.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 1 && n <= max)) {
    return badParam(`Invalid ${LONG_NAMES[name]} ${quote(value)}: expected an integer from 1 to ${max}`);
  }
  return String(n);
}

export function validateDpr(value: string): string | GrammarError {
  const n = DECIMAL.test(value) && value.length <= 10 ? Number(value) : Number.NaN;
  if (!(n >= 1 && n <= 4)) {
    return badParam(`Invalid dpr ${quote(value)}: expected a number from 1 to 4`);
  }
  return String(n);
}

export function validateFit(value: string): string | GrammarError {
  const lower = value.toLowerCase();
  if (FITS.indexOf(lower) < 0) {
    return badParam(`Invalid fit ${quote(value)}: expected one of ${FITS.join(', ')}`);
  }
  return lower;
}

export function validateQuality(value: string): string | GrammarError {
  const lower = value.toLowerCase();
  if (lower === 'auto') return lower;
  const n = DIGITS.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 1 && n <= 100)) {
    return badParam(`Invalid quality ${quote(value)}: expected an integer from 1 to 100 or "auto"`);
  }
  return String(n);
}

export function validateFormat(value: string): string | GrammarError {
  let lower = value.toLowerCase();
  if (lower === 'jpg') lower = 'jpeg';
  if (FORMATS.indexOf(lower) < 0) {
    return badParam(`Invalid format ${quote(value)}: expected one of ${FORMATS.join(', ')} (jpg = jpeg)`);
  }
  return lower;
}

export function validatePresetName(value: string, names: string[]): string | GrammarError {
  const lower = value.toLowerCase();
  if (names.indexOf(lower) < 0) {
    const allowed = names.length > 0 ? `expected one of ${names.join(', ')}` : 'no presets are configured';
    return badParam(`Unknown preset ${quote(value)}: ${allowed}`);
  }
  return lower;
}

/** `maxkb=` → the largest budget of the ladder at or below it (KB). */
export function validateBudget(value: string, budgets: number[]): string | GrammarError {
  const n = DIGITS.test(value) ? Number(value) : 0;
  if (!(n >= 1 && n <= MAX_BUDGET_KB))
    return badParam(
      `Invalid maxkb ${quote(value)}: expected an integer number of KB from 1 to ${MAX_BUDGET_KB}`,
    );
  let snapped = 0;
  for (let i = 0; i < budgets.length; i++) if ((budgets[i] as number) <= n) snapped = budgets[i] as number;
  return snapped > 0
    ? String(snapped)
    : badParam(`Invalid maxkb ${quote(value)}: expected at least ${budgets[0]}, the smallest budget`);
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
    case 'h':
      return validateSize(name, value, config.ladder[config.ladder.length - 1] as number);
    case 'maxkb':
      return validateBudget(value, config.budgets);
    case 'dpr':
      return validateDpr(value);
    case 'fit':
      return validateFit(value);
    case 'q':
      return validateQuality(value);
    case 'f':
      return validateFormat(value);
    case 'preset':
      return validatePresetName(value, presetNames);
    case 'exp':
      // Unix seconds; 12 digits at most (year 33658), so Number() stays exact.
      return DIGITS.test(value) && value.length <= 12
        ? String(Number(value))
        : badParam(`Invalid exp ${quote(value)}: expected a time in Unix seconds, e.g. 1767225600`);
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
