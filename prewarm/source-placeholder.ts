/**
 * The placeholder of one original in a pre-warm run (`--facts`): a stored one is read back and
 * validated (a damaged one is made again and overwrites it); a missing one is drawn from the
 * smallest level the variants' decode already made (transformMany's `onStill`), or, when no
 * variant was made now, from the original with shrink-on-load, and stored at the placeholder
 * key, so `?placeholder=1` answers what the rewritten unit carries.
 */
import type { StoredObject } from '../origin-fn/image-store.ts';
import type { Log } from '../origin-fn/log.ts';
import { type Placeholder, parsePlaceholder, storePlaceholder } from '../origin-fn/placeholder.ts';
import type { OriginalSource } from '../origin-fn/produce-variant.ts';
import type { RawPixels } from '../origin-fn/transform/encode.ts';
import type { TransformLimits } from '../origin-fn/transform/limits.ts';
import { makePlaceholder, placeholderFromPixels } from '../origin-fn/transform/placeholder.ts';
import { toFailure } from './errors.ts';
import type { PrewarmStore } from './prewarm-store.ts';
import type { PlaceholderOutcome } from './types.ts';

/** A stored placeholder when it is valid; undefined (to be made again) when missing or damaged. */
export function readStoredPlaceholder(
  stored: StoredObject | undefined,
  key: string,
  log: Log,
): Placeholder | undefined {
  if (stored === undefined) return undefined;
  try {
    return parsePlaceholder(stored.bytes, `stored placeholder ${key}`);
  } catch (err) {
    log.warn({ key, err: (err as Error).message }, 'stored placeholder is not valid; making it again');
    return undefined;
  }
}

export interface MakePlaceholderDeps {
  store: Pick<PrewarmStore, 'putVariant'>;
  limits: TransformLimits;
  cpu: <T>(task: () => Promise<T>) => Promise<T>;
  storage: <T>(op: () => Promise<T>) => Promise<T>;
  countWrite: () => void;
}

/** Makes and stores the placeholder of a whole original; a failure is its outcome, never thrown. */
export async function makeSourcePlaceholder(
  deps: MakePlaceholderDeps,
  key: string,
  original: OriginalSource,
  still: { pixels: RawPixels; width: number; height: number } | undefined,
): Promise<PlaceholderOutcome> {
  try {
    const placeholder = await deps.cpu(() =>
      still
        ? placeholderFromPixels(still.pixels, { width: still.width, height: still.height })
        : makePlaceholder(original.bytes, undefined, deps.limits),
    );
    await deps.storage(() => {
      deps.countWrite();
      return storePlaceholder(deps.store, key, placeholder, original);
    });
    return { status: 'produced', key, placeholder };
  } catch (err) {
    return { status: 'failed', key, ...toFailure(err) };
  }
}
