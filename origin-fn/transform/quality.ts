/** The numeric quality a spec's `quality` means for one output format. */
import type { OutputFormat, Quality } from '../../edge-fn/grammar/types.ts';
import type { TransformLimits } from './limits.ts';

export function resolveQuality(quality: Quality, format: OutputFormat, limits: TransformLimits): number {
  if (quality === 'auto') return limits.qualities.auto[format];
  if (quality === 'lite') return limits.qualities.lite[format];
  return quality;
}
