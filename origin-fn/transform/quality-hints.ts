/**
 * What the quality searches of one image's variants learn, handed on as the first candidate of
 * its other variants (pre-warm makes all of them in one go, smallest first: transform-many.ts).
 * Which knowledge carries over was measured on the 9 camera photos of the corpus at 256, 828 and
 * 1920 px in AVIF, WebP and JPEG (mean |chosen − first candidate|, in quality steps):
 *  - a search on a tile sample (outputs above 1 MP) starts at the quality the same format chose
 *    at the nearest size searched: 2.1–3.2 steps off at 1920 px. Its own guess (quality.ts
 *    `typicalQuality`, display values for a downscale) is 1.8–3.0 off: a near tie, and the
 *    hint wins on AVIF (22 encoder runs instead of 26 for the 9 photos' 1920 px AVIFs) and loses
 *    on JPEG (30 instead of 27); over the 9 variants of each photo 172 runs instead of 174, 4 %
 *    less CPU. (Before the guess used display values for downscales it was 2.3–10 off, and the
 *    hint saved 7 % of the runs.)
 *  - a search on the whole image (≤ 1 MP) keeps its own guess: 1.1–1.7 steps off at 828 px,
 *    1.1–2.2 at 256 px. The same format's choice at another size is further off (1.7–2.8); the
 *    other formats' offsets from their guesses at the same size come closer (0.6–1.3) but cost
 *    encodes all the same: the search stops at once only on a pass within 0.08 of the target,
 *    and a start moved up a step or two passes by more (5–7 % more encoder runs at 256 and 828 px).
 * Only a search's own result is learnt from (not a fallback, not a fixed quality). A hint only
 * moves the first candidate: the search still encodes, decodes and measures every candidate
 * against the same target, so a variant meets its target exactly as without hints.
 */
import type { OutputFormat } from '../../edge-fn/grammar/types.ts';

export interface Learnt {
  format: OutputFormat;
  profile: 'auto' | 'lite';
  /** Output pixels of the searched variant. */
  pixels: number;
  quality: number;
}

export interface QualityHints {
  /** The first candidate for a search of this format and size, or undefined (use the guess). */
  startFor(
    format: OutputFormat,
    profile: 'auto' | 'lite',
    pixels: number,
    sampled: boolean,
  ): number | undefined;
  learn(learnt: Learnt): void;
}

/** How many times one size is the other (log scale). */
const apart = (a: number, b: number) => Math.abs(Math.log(a / b));

/** Hints for the variants of one image (create one per original; never shared across images). */
export function createQualityHints(): QualityHints {
  const learnt: Learnt[] = [];
  return {
    startFor(format, profile, pixels, sampled) {
      if (!sampled) return undefined;
      let best: Learnt | undefined;
      for (const l of learnt)
        if (
          l.profile === profile &&
          l.format === format &&
          (best === undefined || apart(l.pixels, pixels) < apart(best.pixels, pixels))
        )
          best = l;
      return best?.quality;
    },
    learn(l) {
      learnt.push(l);
    },
  };
}
