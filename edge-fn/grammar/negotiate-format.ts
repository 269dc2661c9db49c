/**
 * `f=auto`: choose the output format from the `Accept` header.
 *
 * Only an explicit `image/avif` or `image/webp` entry with q > 0 selects a modern format;
 * between the two the client's q-value decides, ties go to the smaller format (AVIF).
 * Wildcards (`image/*`, `*\/*`) never select AVIF or WebP: browsers and tools that cannot
 * decode them send wildcards too (old Safari sends `image/*`, curl sends `*\/*`). Everyone
 * else gets the legacy format: PNG when the source's extension can carry transparency,
 * JPEG otherwise. There is never a 406: the legacy format is always served.
 */
import type { GrammarConfig } from './config.ts';
import { MAX_ACCEPT_CHARS } from './config.ts';
import { lower } from './text.ts';
import type { OutputFormat } from './types.ts';

export interface MediaRange {
  type: string;
  q: number;
}

const QVALUE = /^(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$/;

/** Parse an Accept header into media ranges (lower-cased) with q-values. Entries with an invalid q are dropped. */
export function parseAccept(header: string): MediaRange[] {
  const out: MediaRange[] = [];
  const entries = lower(header.slice(0, MAX_ACCEPT_CHARS)).split(',');
  for (let i = 0; i < entries.length; i++) {
    const entry = (entries[i] as string).trim();
    const type = (entry.split(';')[0] as string).trim();
    if (type === '') continue;
    const q = entryQ(entry);
    if (q >= 0) out.push({ type: type, q: q });
  }
  return out;
}

/** The q of one Accept entry ("image/avif;q=0.8" → 0.8), or -1 when its q is invalid. */
function entryQ(entry: string): number {
  const parts = entry.split(';');
  let q = 1;
  for (let j = 1; j < parts.length; j++) {
    const param = (parts[j] as string).trim();
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim() !== 'q') continue;
    const value = param.slice(eq + 1).trim();
    q = QVALUE.test(value) ? Number(value) : -1;
  }
  return q;
}

/**
 * The highest q the header gives to exactly `image/avif` and `image/webp` (0 when absent or
 * refused), by subtype. Only those entries are parsed: this runs on every request.
 */
function modernQs(accept: string): Record<string, number> {
  const out: Record<string, number> = { avif: 0, webp: 0 };
  const entries = lower(accept.slice(0, MAX_ACCEPT_CHARS)).split(',');
  for (let i = 0; i < entries.length; i++) {
    const entry = (entries[i] as string).trim();
    const semi = entry.indexOf(';');
    const type = (semi < 0 ? entry : entry.slice(0, semi)).trim();
    const sub = type.slice(6);
    if (type.slice(0, 6) !== 'image/' || (sub !== 'avif' && sub !== 'webp')) continue;
    const q = entryQ(entry);
    if (q > (out[sub] as number)) out[sub] = q;
  }
  return out;
}

export function extensionOf(source: string): string {
  const slash = source.lastIndexOf('/');
  const name = source.slice(slash + 1);
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? '' : lower(name.slice(dot + 1));
}

export function legacyFormat(source: string, config: GrammarConfig): OutputFormat {
  return config.alphaExtensions.indexOf(extensionOf(source)) >= 0 ? 'png' : 'jpeg';
}

export function negotiateFormat(
  accept: string | undefined,
  source: string,
  config: GrammarConfig,
): OutputFormat {
  // Fast path: no explicit modern type in the header means the legacy format.
  if (accept && config.autoFormats.length > 0 && /image\/(avif|webp)/i.test(accept)) {
    const qs = modernQs(accept);
    let best: OutputFormat | undefined;
    let bestQ = 0;
    // autoFormats is in preference order, so a strictly higher q is needed to beat an earlier one.
    for (let i = 0; i < config.autoFormats.length; i++) {
      const format = config.autoFormats[i] as 'avif' | 'webp';
      const q = qs[format] as number;
      if (q > bestQ) {
        best = format;
        bestQ = q;
      }
    }
    if (best) return best;
  }
  return legacyFormat(source, config);
}
