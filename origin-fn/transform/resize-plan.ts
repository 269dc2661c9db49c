/**
 * Turns a spec's box into the resize sharp performs, so that the output never enlarges the
 * source, never exceeds the maximum output dimension, and keeps the box's aspect ratio when the
 * box has to shrink (sharp's own `withoutEnlargement` would crop `cover`/`fill` to an arbitrary
 * aspect, and pad `contain` out to the full box).
 *
 * With a crop, the region (per-mille of the displayed original, rounded outward to whole pixels)
 * is the source the box is planned against: a width above the region's own width is capped
 * exactly like a width above the whole image's.
 */
import type { Crop, Fit, Position } from '../../edge-fn/grammar/types.ts';

export interface Size {
  width: number;
  height: number;
}

export interface ResizePlan {
  width: number;
  height: number;
  fit: Fit;
  /** Anchor of a `cover`/`contain` plan; absent = centre. */
  position?: Position;
}

export interface BoxRequest {
  width?: number | undefined;
  height?: number | undefined;
  fit: Fit;
  position?: Position | undefined;
}

/** A rectangle of the displayed original, in whole pixels. */
export interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** What to decode: an optional region of the original, then an optional resize of it. */
export interface Geometry {
  region: Region | undefined;
  /** The size the resize starts from: the region's, or the whole original's. */
  size: Size;
  plan: ResizePlan | undefined;
}

/**
 * The pixels of a per-mille crop of `size`, rounded outward (left/top down, right/bottom up) so
 * the region asked for is always inside the one produced, clamped to the image, at least 1 px.
 */
export function cropRegion(size: Size, crop: Crop): Region {
  const left = Math.min(size.width - 1, Math.floor((crop.x * size.width) / 1000));
  const top = Math.min(size.height - 1, Math.floor((crop.y * size.height) / 1000));
  const right = Math.max(left + 1, Math.min(size.width, Math.ceil(((crop.x + crop.w) * size.width) / 1000)));
  const bottom = Math.max(
    top + 1,
    Math.min(size.height, Math.ceil(((crop.y + crop.h) * size.height) / 1000)),
  );
  return { left, top, width: right - left, height: bottom - top };
}

/** The region (if any) and the resize of it for a spec, on a source of `source` size (as displayed). */
export function planGeometry(
  source: Size,
  request: BoxRequest & { crop?: Crop | undefined },
  maxDimension: number,
): Geometry {
  const region = request.crop === undefined ? undefined : cropRegion(source, request.crop);
  const size = region === undefined ? source : { width: region.width, height: region.height };
  return { region, size, plan: planResize(size, request, maxDimension) };
}

/** The size a resize to `plan` gives a source of `size` (`inside` keeps the source's aspect). */
export function outputSize(size: Size, plan: ResizePlan | undefined): Size {
  if (plan === undefined) return { width: size.width, height: size.height };
  if (plan.fit !== 'inside') return { width: plan.width, height: plan.height };
  const scale = Math.min(plan.width / size.width, plan.height / size.height, 1);
  return { width: atLeastOne(size.width * scale), height: atLeastOne(size.height * scale) };
}

/**
 * The scale (per axis) at which a resize to `plan` samples a source of `size`: what a decode
 * must at least keep of the region so the resize never enlarges it. 1 without a plan.
 */
export function planScale(size: Size, plan: ResizePlan | undefined): { x: number; y: number } {
  if (plan === undefined) return { x: 1, y: 1 };
  const sx = plan.width / size.width;
  const sy = plan.height / size.height;
  switch (plan.fit) {
    case 'fill':
      return { x: Math.min(1, sx), y: Math.min(1, sy) };
    case 'cover': {
      const s = Math.min(1, Math.max(sx, sy));
      return { x: s, y: s };
    }
    default: {
      const s = Math.min(1, sx, sy);
      return { x: s, y: s };
    }
  }
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
      const plan: ResizePlan = {
        width: atLeastOne(boxW * scale),
        height: atLeastOne(boxH * scale),
        fit: request.fit,
      };
      if (request.position !== undefined && request.fit !== 'fill') plan.position = request.position;
      return plan;
    }
  }
}

/** The whole original's size at the scale its crop is resized by (the crop's two-step decode). */
export function wholeAtCropScale(source: Size, region: Size, plan: ResizePlan | undefined): Size {
  const scale = planScale(region, plan);
  return { width: atLeastOne(source.width * scale.x), height: atLeastOne(source.height * scale.y) };
}
