/** Running totals of a pre-warm run (constant memory, whatever the number of units). */
import type { SourceOutcome, Totals, UnitReport } from './types.ts';

export interface Tally {
  addUnit(report: UnitReport): void;
  /** Each distinct original's outcome once (its variants are counted once per run). */
  addSource(outcome: SourceOutcome): void;
  totals(): Totals;
}

export function createTally(now: () => number = () => performance.now()): Tally {
  const start = now();
  const t: Totals = {
    units: { total: 0, done: 0, failed: 0 },
    images: { total: 0, ok: 0, skippedExisting: 0, failed: 0 },
    variants: { produced: 0, existing: 0, failed: 0 },
    bytesBefore: 0,
    bytesAfter: 0,
    savings: 0,
    durationMs: 0,
    unitsPerSecond: 0,
    variantsPerSecond: 0,
  };
  return {
    addUnit(report) {
      t.units.total++;
      t.units[report.status]++;
      for (const image of report.images) {
        t.images.total++;
        if (image.status === 'ok') t.images.ok++;
        else if (image.status === 'skipped-existing') t.images.skippedExisting++;
        else t.images.failed++;
        if (image.status !== 'failed' && image.bytesBefore !== undefined && image.bytesAfter !== undefined) {
          t.bytesBefore += image.bytesBefore;
          t.bytesAfter += image.bytesAfter;
        }
      }
    },
    addSource(outcome) {
      for (const v of outcome.variants) t.variants[v.status]++;
    },
    totals() {
      const durationMs = Math.max(1, Math.round(now() - start));
      const variants = t.variants.produced + t.variants.existing + t.variants.failed;
      return {
        ...t,
        units: { ...t.units },
        images: { ...t.images },
        variants: { ...t.variants },
        savings: t.bytesBefore > 0 ? round3(1 - t.bytesAfter / t.bytesBefore) : 0,
        durationMs,
        unitsPerSecond: round3((t.units.total * 1000) / durationMs),
        variantsPerSecond: round3((variants * 1000) / durationMs),
      };
    },
  };
}

export const round3 = (n: number) => Math.round(n * 1000) / 1000;
