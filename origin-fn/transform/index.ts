export type { Animation, Encoded, EncodeRequest, RawPixels } from './encode.ts';
export { CONTENT_TYPES, type ServedFormat, type SourceFormat } from './formats.ts';
export {
  DEFAULT_LIMITS,
  type FormatQualities,
  type QualityProfile,
  type QualitySettings,
  type TransformLimits,
  validateLimits,
} from './limits.ts';
export type { SourceInfo } from './probe-source.ts';
export { formatQualityHeader, QUALITY_WINDOWS, type QualityReport } from './quality.ts';
export { planResize, type ResizePlan } from './resize-plan.ts';
export { createTransformer } from './transform.ts';
export type { Transformer, TransformResult } from './types.ts';
