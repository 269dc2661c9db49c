/**
 * The rewritten Data Unit: a deep copy in which each pre-warmed image reference (by its JSON
 * pointer) is replaced by its CDN URL for the rewrite preset (`preset` mode) or by a map
 * preset → URL (`map` mode). Everything else, failed references included, is left untouched.
 */
import { pointerToken } from './selectors.ts';

export type Replacement = string | Record<string, string>;

export function rewriteUnit(unit: unknown, replacements: Map<string, Replacement>): unknown {
  if (replacements.size === 0) return unit;
  const copy = structuredClone(unit);
  for (const [pointer, value] of replacements) setAt(copy, pointer, value);
  return copy;
}

function setAt(root: unknown, pointer: string, value: Replacement): void {
  const tokens = pointer
    .split('/')
    .slice(1)
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
  let node: unknown = root;
  for (let i = 0; i < tokens.length - 1; i++) {
    if (typeof node !== 'object' || node === null) return;
    node = (node as Record<string, unknown>)[tokens[i] as string];
  }
  const last = tokens[tokens.length - 1];
  if (last === undefined || typeof node !== 'object' || node === null) return;
  if (Array.isArray(node)) node[Number(last)] = value;
  else (node as Record<string, unknown>)[last] = value;
}

export { pointerToken };
