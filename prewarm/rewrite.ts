/**
 * The rewritten Data Unit: a deep copy in which each pre-warmed image reference (by its JSON
 * pointer) is replaced by its CDN URL for the rewrite preset (`preset` mode), by a map
 * preset → URL (`map` mode), or, with facts, by its facts (facts.ts: URLs, sizes, bytes,
 * placeholder). Everything else, failed references included, is left untouched.
 */
import { cdnUrl, expiresIn } from '../edge-fn/sign-url.ts';
import { factsOf, type ImageFacts } from './facts.ts';
import { pointerToken } from './selectors.ts';
import type { SourceOutcome } from './types.ts';

export type Replacement = string | Record<string, string> | ImageFacts;

export interface RewriteSettings {
  /** Base of the rewritten URLs, e.g. `https://d111.cloudfront.net`. */
  cdnBase: string;
  /** Pre-warmed presets (the map's and the facts' keys). */
  presets: string[];
  rewrite: 'preset' | 'map';
  /** The preset of `preset` mode's URL and of the facts' `url`. */
  rewritePreset: string;
  /** Signs every URL (signUrl) when set. */
  signingSecret?: string | undefined;
  /** References become their facts (facts.ts); each original's placeholder is made and stored. */
  facts?: boolean | undefined;
  /** URLs carry `exp=` this many seconds from now (signed with the rest when there is a secret). */
  expiresSeconds?: number | undefined;
}

/**
 * What replaces a pre-warmed reference to `key`; undefined when its facts are wanted but
 * missing (the placeholder failed: the image is reported failed and left as it was).
 */
export function replacementFor(
  key: string,
  outcome: SourceOutcome,
  settings: RewriteSettings,
  nowMs: number = Date.now(),
): Replacement | undefined {
  const exp = settings.expiresSeconds === undefined ? undefined : expiresIn(settings.expiresSeconds, nowMs);
  const urlOf = (preset: string) => cdnUrl(settings.cdnBase, key, { preset, exp }, settings.signingSecret);
  if (settings.facts) return factsOf(outcome, settings.presets, urlOf, settings.rewritePreset);
  if (settings.rewrite === 'preset') return urlOf(settings.rewritePreset);
  const map: Record<string, string> = {};
  for (const p of settings.presets) map[p] = urlOf(p);
  return map;
}

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
