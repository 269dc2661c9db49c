/**
 * Planning with the edge's own grammar: for one original, the variant keys the CDN would compute
 * for each preset and format (through `normalizeRequest`, the very function the CloudFront
 * function runs), and the CDN URLs that lead to them.
 */
import type { GrammarConfig } from '../edge-fn/grammar/config.ts';
import { legacyFormat } from '../edge-fn/grammar/negotiate-format.ts';
import { normalizeRequest } from '../edge-fn/grammar/normalize.ts';
import { encodeKeyPath } from '../edge-fn/grammar/source-key.ts';
import type { OutputFormat, VariantSpec } from '../edge-fn/grammar/types.ts';
import { checkOriginalKey } from '../edge-fn/grammar/variant-key.ts';
import { PrewarmError } from './errors.ts';

export interface PlannedVariant {
  preset: string;
  format: OutputFormat;
  key: string;
  spec: VariantSpec;
}

/** `formats` empty = every format `f=auto` can give this original (modern ones, then its legacy one). */
export function formatsFor(source: string, formats: OutputFormat[], grammar: GrammarConfig): OutputFormat[] {
  if (formats.length > 0) return formats;
  const out: OutputFormat[] = [...grammar.autoFormats];
  const legacy = legacyFormat(source, grammar);
  if (!out.includes(legacy)) out.push(legacy);
  return out;
}

/**
 * Throws PREWARM_VARIANT_KEY when `key` cannot be an original because it is itself a variant
 * key: the origin's own check (`checkOriginalKey`), so pre-warm never stores `v1/v1/…`.
 */
export function assertOriginalKey(key: string, grammar: GrammarConfig): void {
  const problem = checkOriginalKey(key, grammar);
  if (problem) throw new PrewarmError('PREWARM_VARIANT_KEY', problem.message);
}

export function planVariants(
  source: string,
  presets: string[],
  formats: OutputFormat[],
  grammar: GrammarConfig,
): PlannedVariant[] {
  assertOriginalKey(source, grammar);
  const path = `/${encodeKeyPath(source)}`;
  const out: PlannedVariant[] = [];
  for (const preset of presets) {
    for (const format of formatsFor(source, formats, grammar)) {
      const n = normalizeRequest(
        {
          path,
          params: [
            { name: 'f', value: format },
            { name: 'preset', value: preset },
          ],
        },
        grammar,
      );
      if (!n.ok) throw new PrewarmError('PREWARM_BAD_REF', n.message);
      out.push({ preset, format, key: n.key, spec: n.spec });
    }
  }
  return out;
}
