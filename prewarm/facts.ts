/**
 * Facts of a pre-warmed image (`--facts`), what a contractor's app needs to draw a preview and
 * show the download size before fetching: the original's size, each preset's URL, size and bytes
 * per pre-warmed format, and the placeholder (ThumbHash, data URI) stored at its key. The shape
 * is documented in docs/prewarm.md ("Facts") and checked by FACTS_SCHEMA where read back.
 */
import * as v from 'valibot';
import type { OutputFormat } from '../edge-fn/grammar/types.ts';
import { PLACEHOLDER_SCHEMA } from '../origin-fn/placeholder.ts';
import type { Placeholder } from '../origin-fn/transform/placeholder.ts';
import type { SourceOutcome } from './types.ts';

export interface PresetFacts {
  /** The preset's CDN URL (`f=auto`: the viewer's best format of those below). */
  url: string;
  width: number;
  height: number;
  /** Bytes of the stored variant per pre-warmed format. */
  bytes: Partial<Record<OutputFormat, number>>;
}

export interface ImageFacts {
  /** The rewrite preset's URL (what `--rewrite preset` would put in place of the reference). */
  url: string;
  /** The original's size after EXIF orientation. */
  width: number;
  height: number;
  presets: Record<string, PresetFacts>;
  placeholder: Placeholder;
}

const size = v.pipe(v.number(), v.integer(), v.minValue(1));
const FORMATS = ['avif', 'webp', 'jpeg', 'png'] as const;

export const FACTS_SCHEMA = v.strictObject({
  url: v.pipe(v.string(), v.url()),
  width: size,
  height: size,
  presets: v.record(
    v.string(),
    v.strictObject({
      url: v.pipe(v.string(), v.url()),
      width: size,
      height: size,
      bytes: v.record(v.picklist(FORMATS), size),
    }),
  ),
  placeholder: PLACEHOLDER_SCHEMA,
});

/** Facts parsed from a value (a rewritten unit's reference); throws an Error naming what is wrong. */
export function parseFacts(value: unknown): ImageFacts {
  const parsed = v.safeParse(FACTS_SCHEMA, value);
  if (parsed.success) return parsed.output as ImageFacts;
  const issue = parsed.issues[0];
  const where = issue.path?.map((p) => String(p.key)).join('.') || 'the object';
  throw new Error(`Invalid image facts: ${where}: ${issue.message}`);
}

/**
 * The facts of one original from its outcome (every variant verified, the placeholder made or
 * read back); undefined when the placeholder is missing (the image is then reported failed).
 */
export function factsOf(
  outcome: SourceOutcome,
  presets: string[],
  urlOf: (preset: string) => string,
  rewritePreset: string,
): ImageFacts | undefined {
  const placeholder = outcome.placeholder;
  if (placeholder === undefined || placeholder.status === 'failed') return undefined;
  const out: Record<string, PresetFacts> = {};
  for (const preset of presets) {
    const variants = outcome.variants.filter((x) => x.preset === preset);
    const first = variants[0];
    if (first?.width === undefined || first.height === undefined) continue;
    const bytes: PresetFacts['bytes'] = {};
    for (const x of variants) if (x.bytes !== undefined) bytes[x.format] = x.bytes;
    out[preset] = { url: urlOf(preset), width: first.width, height: first.height, bytes };
  }
  const p = placeholder.placeholder;
  return { url: urlOf(rewritePreset), width: p.width, height: p.height, presets: out, placeholder: p };
}
