/**
 * Turns a spec's box into the resize sharp performs, so that the output never enlarges the
 * source, never exceeds the maximum output dimension, and keeps the box's aspect ratio when the
 * box has to shrink (sharp's own `withoutEnlargement` would crop `cover`/`fill` to an arbitrary
 * aspect, and pad `contain` out to the full box).
 */
import type { Fit } from '../../edge-fn/grammar/types.ts';

export interface Size {
  width: number;
  height: number;
}

export interface ResizePlan {
  width: number;
  height: number;
  fit: Fit;
}

export interface BoxRequest {
  width?: number | undefined;
  height?: number | undefined;
  fit: Fit;
}

const atLeastOne = (n: number) => Math.max(1, Math.round(n));

/**
 * The resize to apply to a source of `source` size (as displayed), or undefined when the
 * source is already within bounds and no box was asked for.
 */
export function planResize(source: Size, request: BoxRequest, maxDimension: number): ResizePlan | undefined {
  const { width, height } = request;
  if (width === undefined || height === undefined) {
    // One side or none: always `inside` (the other side follows the aspect ratio).
    const boxW = Math.min(width ?? maxDimension, maxDimension);
    const boxH = Math.min(height ?? maxDimension, maxDimension);
    if (source.width <= boxW && source.height <= boxH) return undefined;
    return { width: boxW, height: boxH, fit: 'inside' };
  }
  switch (request.fit) {
    case 'inside':
      return { width: Math.min(width, maxDimension), height: Math.min(height, maxDimension), fit: 'inside' };
    case 'outside': {
      // The smallest scale at which the source covers the box, capped at 1 (no enlargement)
      // and at the maximum dimension; then an `inside` resize to that exact size.
      const scale = Math.min(
        Math.max(width / source.width, height / source.height),
        1,
        maxDimension / source.width,
        maxDimension / source.height,
      );
      return {
        width: atLeastOne(source.width * scale),
        height: atLeastOne(source.height * scale),
        fit: 'inside',
      };
    }
    case 'cover':
    case 'fill':
    case 'contain': {
      // Shrink the box (keeping its aspect ratio) to the maximum dimension, then to what the
      // source can fill without enlargement: for cover/fill the box must lie within the
      // source; for contain, the source must fit the box at scale 1.
      const cap = Math.min(1, maxDimension / width, maxDimension / height);
      const boxW = width * cap;
      const boxH = height * cap;
      const fitScale =
        request.fit === 'contain'
          ? Math.max(source.width / boxW, source.height / boxH)
          : Math.min(source.width / boxW, source.height / boxH);
      const scale = Math.min(1, fitScale);
      return { width: atLeastOne(boxW * scale), height: atLeastOne(boxH * scale), fit: request.fit };
    }
  }
}
