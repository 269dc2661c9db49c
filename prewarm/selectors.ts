/**
 * Selectors name where a Data Unit keeps its image references. Two spellings:
 *  - a JSON pointer (RFC 6901), e.g. `/cover/url`, `/images/0/src`;
 *  - a simple path, e.g. `images[*].url`, `cover.src`, `gallery[*]`, `pages[0].img`, where `[*]`
 *    means every element of an array.
 * `compileSelector` validates one (a clear message on a bad one); `selectAll` yields every
 * string it reaches with the JSON pointer of its place (used for the rewrite).
 */

export const ANY_INDEX = Symbol('any index');
export type Step = string | number | typeof ANY_INDEX;

export interface Selector {
  text: string;
  steps: Step[];
}

export class SelectorError extends Error {
  override name = 'SelectorError';
}

const NAME = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;
const MAX_SELECTOR_CHARS = 512;

function bad(text: string, why: string): SelectorError {
  return new SelectorError(
    `Invalid selector ${JSON.stringify(text)}: ${why}. Expected a JSON pointer like "/images/0/url" or a path like "images[*].url"`,
  );
}

export function compileSelector(text: string): Selector {
  if (text === '' || text.length > MAX_SELECTOR_CHARS)
    throw bad(text, `expected 1 to ${MAX_SELECTOR_CHARS} characters`);
  if (text.startsWith('/')) {
    const steps = text
      .slice(1)
      .split('/')
      .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
    if (/~[^01]/.test(text) || text.endsWith('~')) throw bad(text, 'a "~" must be followed by 0 or 1');
    return { text, steps };
  }
  const steps: Step[] = [];
  for (const part of text.split('.')) {
    const m = /^([^[\]]*)((?:\[(?:\*|[0-9]+)\])*)$/.exec(part);
    if (!m) throw bad(text, `cannot read ${JSON.stringify(part)}`);
    const name = m[1] ?? '';
    const indexes = m[2] ?? '';
    if (name !== '') {
      if (!NAME.test(name)) throw bad(text, `${JSON.stringify(name)} is not a plain property name`);
      steps.push(name);
    } else if (indexes === '' || steps.length === 0) {
      throw bad(text, 'empty property name');
    }
    for (const idx of indexes.match(/\[(\*|[0-9]+)\]/g) ?? []) {
      const inner = idx.slice(1, -1);
      steps.push(inner === '*' ? ANY_INDEX : Number(inner));
    }
  }
  return { text, steps };
}

export function pointerToken(step: string | number): string {
  return String(step).replaceAll('~', '~0').replaceAll('/', '~1');
}

export interface Found {
  pointer: string;
  value: string;
}

/** Every string the selector reaches, with its JSON pointer. Missing paths yield nothing. */
export function selectAll(root: unknown, selector: Selector): Found[] {
  const out: Found[] = [];
  const visit = (value: unknown, at: number, pointer: string) => {
    if (at === selector.steps.length) {
      if (typeof value === 'string') out.push({ pointer, value });
      return;
    }
    const step = selector.steps[at] as Step;
    if (step === ANY_INDEX) {
      if (!Array.isArray(value)) return;
      value.forEach((item, i) => {
        visit(item, at + 1, `${pointer}/${i}`);
      });
      return;
    }
    if (Array.isArray(value)) {
      const i = typeof step === 'number' ? step : /^(0|[1-9][0-9]*)$/.test(step) ? Number(step) : -1;
      if (i >= 0 && i < value.length) visit(value[i], at + 1, `${pointer}/${i}`);
      return;
    }
    if (typeof value === 'object' && value !== null) {
      const name = String(step);
      if (Object.hasOwn(value, name)) {
        visit((value as Record<string, unknown>)[name], at + 1, `${pointer}/${pointerToken(name)}`);
      }
    }
  };
  visit(root, 0, '');
  return out;
}

/** Every string leaf of a JSON value, depth-first, with its pointer (bounded depth). */
export function allStrings(root: unknown, maxDepth = 64): Found[] {
  const out: Found[] = [];
  const visit = (value: unknown, depth: number, pointer: string) => {
    if (typeof value === 'string') {
      out.push({ pointer, value });
      return;
    }
    if (depth >= maxDepth || typeof value !== 'object' || value === null) return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        visit(item, depth + 1, `${pointer}/${i}`);
      });
      return;
    }
    for (const [name, item] of Object.entries(value))
      visit(item, depth + 1, `${pointer}/${pointerToken(name)}`);
  };
  visit(root, 0, '');
  return out;
}
