/**
 * HEIC decoding through libheif + libde265 compiled to WebAssembly (the `libheif-js` package,
 * LGPL-3.0; its wasm build, loaded from the .wasm file beside it). libheif's C API is called
 * directly, on the module's exported functions: it gives what the package's JS wrapper does not
 * (error messages, the ICC or nclx colour profile, decoding warnings, security limits).
 *
 * libheif applies the HEIF transforms (irot rotation, imir mirror, clap crop) while decoding:
 * the pixels come out upright, and the EXIF orientation tag, which HEIF says is informative
 * only, is never applied on top (it does not even reach sharp: the pixels do, in a TIFF).
 *
 * Runs in the decode worker (heic-worker.ts); synchronous, so the worker bounds its time.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tiffLayout, writeTiffHeader } from './heic-tiff.ts';

/** The exported C functions used here (emscripten: pointers are numbers, structs returned through a first pointer argument). */
interface Libheif {
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  _heif_context_alloc(): number;
  _heif_context_free(ctx: number): void;
  _heif_context_get_security_limits(ctx: number): number;
  _heif_context_read_from_memory_without_copy(
    err: number,
    ctx: number,
    data: number,
    size: number,
    opts: number,
  ): void;
  _heif_context_get_primary_image_handle(err: number, ctx: number, out: number): void;
  _heif_image_handle_release(handle: number): void;
  _heif_image_handle_get_width(handle: number): number;
  _heif_image_handle_get_height(handle: number): number;
  _heif_image_handle_has_alpha_channel(handle: number): number;
  _heif_image_handle_get_color_profile_type(handle: number): number;
  _heif_image_handle_get_raw_color_profile_size(handle: number): number;
  _heif_image_handle_get_raw_color_profile(err: number, handle: number, out: number): void;
  _heif_image_handle_get_nclx_color_profile(err: number, handle: number, out: number): void;
  _heif_nclx_color_profile_free(nclx: number): void;
  _heif_decode_image(
    err: number,
    handle: number,
    out: number,
    colorspace: number,
    chroma: number,
    opts: number,
  ): void;
  _heif_image_get_decoding_warnings(image: number, first: number, out: number, max: number): number;
  _heif_image_get_width(image: number, channel: number): number;
  _heif_image_get_height(image: number, channel: number): number;
  _heif_image_get_plane_readonly2(image: number, channel: number, strideOut: number): number;
  _heif_image_release(image: number): void;
}

const COLORSPACE_RGB = 1;
const CHROMA_RGB = 10;
const CHROMA_RGBA = 11;
const CHANNEL_INTERLEAVED = 10;
const fourcc = (s: string) => s.split('').reduce((n, c) => (n << 8) | c.charCodeAt(0), 0) >>> 0;
const PROFILE_NCLX = fourcc('nclx');
const PROFILE_ICC = [fourcc('prof'), fourcc('rICC')];
/** nclx colour primaries (ITU-T H.273): 1 BT.709 (sRGB's), 2 unspecified, 12 Display P3. */
const PRIMARIES_P3 = 12;
/** libheif's documented default of max_image_size_pixels: checks the struct layout read here. */
const LIBHEIF_DEFAULT_MAX_PIXELS = 32768 * 32768;

/** A libheif failure: its message, and whether it is about the data (damaged) or the feature. */
export class HeifError extends Error {
  override name = 'HeifError';
  constructor(
    message: string,
    readonly code: number,
    readonly subcode: number,
  ) {
    super(message);
  }
}

let loaded: Libheif | undefined;

/** Instantiates the wasm module once per thread (synchronous: ~60 ms, most of it compiling). */
export function libheif(): Libheif {
  if (loaded === undefined) {
    const require = createRequire(import.meta.url);
    const factory = require('libheif-js/libheif-wasm/libheif.js') as (opts: {
      wasmBinary: Uint8Array;
    }) => Libheif;
    const wasmBinary = readFileSync(require.resolve('libheif-js/libheif-wasm/libheif.wasm'));
    loaded = factory({ wasmBinary });
  }
  return loaded;
}

export interface HeicTiff {
  /** An uncompressed TIFF of the upright pixels, with the source's ICC profile when it has one. */
  tiff: Uint8Array;
  width: number;
  height: number;
  channels: 3 | 4;
  /** Where the colour profile came from: the file's ICC, an nclx code mapped to one, or none (sRGB). */
  profile: 'icc' | 'nclx-p3' | 'srgb' | 'unconverted';
}

export interface HeicDecodeOptions {
  /** libheif's own pixel limit, a second guard behind the header check of probe-source.ts. */
  maxPixels: number;
  /** The ICC profile given to an image whose nclx box says Display P3 (sharp's built-in one). */
  p3Icc?: Uint8Array | undefined;
}

/** Decodes the primary image of a HEIF file to a TIFF (heic-tiff.ts); throws HeifError. */
export function decodeHeicToTiff(input: Uint8Array, options: HeicDecodeOptions): HeicTiff {
  const M = libheif();
  const scratch = M._malloc(64);
  const data = M._malloc(input.length);
  const ctx = M._heif_context_alloc();
  let handle = 0;
  let image = 0;
  const u32 = (ptr: number) => new DataView(M.HEAPU8.buffer).getUint32(ptr, true);
  const i32 = (ptr: number) => new DataView(M.HEAPU8.buffer).getInt32(ptr, true);
  const cString = (ptr: number) => {
    const end = M.HEAPU8.indexOf(0, ptr);
    return Buffer.from(M.HEAPU8.subarray(ptr, end < 0 ? ptr : end)).toString('utf8');
  };
  /** heif_error {code, subcode, message} written at `scratch` by the call before. */
  const check = (what: string) => {
    const code = i32(scratch);
    if (code !== 0) {
      throw new HeifError(`${what}: ${cString(u32(scratch + 8))}`, code, i32(scratch + 4));
    }
  };
  try {
    limitPixels(M, ctx, options.maxPixels);
    M.HEAPU8.set(input, data);
    M._heif_context_read_from_memory_without_copy(scratch, ctx, data, input.length, 0);
    check('cannot read the HEIF container');
    M._heif_context_get_primary_image_handle(scratch, ctx, scratch + 16);
    check('no primary image');
    handle = u32(scratch + 16);
    const channels = M._heif_image_handle_has_alpha_channel(handle) ? 4 : 3;
    const { icc, profile } = colourProfile(M, handle, scratch, options.p3Icc, check);
    M._heif_decode_image(
      scratch,
      handle,
      scratch + 16,
      COLORSPACE_RGB,
      channels === 4 ? CHROMA_RGBA : CHROMA_RGB,
      0,
    );
    check('cannot decode the image');
    image = u32(scratch + 16);
    // Strict like sharp's failOn 'warning': a tile that failed to decode is a damaged image.
    const warnings = M._heif_image_get_decoding_warnings(image, 0, 0, 0);
    if (warnings > 0) throw new HeifError(`${warnings} decoding warning(s): damaged image data`, 7, 150);
    const width = M._heif_image_get_width(image, CHANNEL_INTERLEAVED);
    const height = M._heif_image_get_height(image, CHANNEL_INTERLEAVED);
    const plane = M._heif_image_get_plane_readonly2(image, CHANNEL_INTERLEAVED, scratch + 24);
    if (plane === 0 || width <= 0 || height <= 0)
      throw new HeifError('the decoded image has no pixels', 4, 0);
    const stride = u32(scratch + 24);
    const tiff = new Uint8Array(tiffLayout(width, height, channels, icc?.length ?? 0).bytes);
    const { pixelsOffset } = writeTiffHeader(tiff, width, height, channels, icc);
    const row = width * channels;
    for (let y = 0; y < height; y++) {
      tiff.set(M.HEAPU8.subarray(plane + y * stride, plane + y * stride + row), pixelsOffset + y * row);
    }
    return { tiff, width, height, channels, profile };
  } finally {
    if (image !== 0) M._heif_image_release(image);
    if (handle !== 0) M._heif_image_handle_release(handle);
    M._heif_context_free(ctx);
    M._free(data);
    M._free(scratch);
  }
}

/**
 * Sets libheif's max_image_size_pixels (heif_security_limits: uint8 version, then uint64 at
 * offset 8 in wasm32), after checking the field holds its documented default.
 */
function limitPixels(M: Libheif, ctx: number, maxPixels: number): void {
  const limits = M._heif_context_get_security_limits(ctx);
  const view = new DataView(M.HEAPU8.buffer);
  const current = view.getBigUint64(limits + 8, true);
  if (current !== BigInt(LIBHEIF_DEFAULT_MAX_PIXELS)) {
    throw new Error(
      `libheif's security limits have an unexpected layout (max_image_size_pixels read as ${current})`,
    );
  }
  view.setBigUint64(limits + 8, BigInt(maxPixels), true);
}

function colourProfile(
  M: Libheif,
  handle: number,
  scratch: number,
  p3Icc: Uint8Array | undefined,
  check: (what: string) => void,
): { icc: Uint8Array | undefined; profile: HeicTiff['profile'] } {
  const type = M._heif_image_handle_get_color_profile_type(handle);
  if (PROFILE_ICC.includes(type)) {
    const size = M._heif_image_handle_get_raw_color_profile_size(handle);
    const buf = M._malloc(size);
    try {
      M._heif_image_handle_get_raw_color_profile(scratch, handle, buf);
      check('cannot read the ICC profile');
      return { icc: M.HEAPU8.slice(buf, buf + size), profile: 'icc' };
    } finally {
      M._free(buf);
    }
  }
  if (type === PROFILE_NCLX) {
    M._heif_image_handle_get_nclx_color_profile(scratch, handle, scratch + 32);
    check('cannot read the nclx colour profile');
    const nclx = new DataView(M.HEAPU8.buffer).getUint32(scratch + 32, true);
    // heif_color_profile_nclx: uint8 version, then the enum color_primaries at offset 4.
    const primaries = new DataView(M.HEAPU8.buffer).getInt32(nclx + 4, true);
    M._heif_nclx_color_profile_free(nclx);
    if (primaries === PRIMARIES_P3 && p3Icc !== undefined) return { icc: p3Icc, profile: 'nclx-p3' };
    if (primaries === 1 || primaries === 2) return { icc: undefined, profile: 'srgb' };
    return { icc: undefined, profile: 'unconverted' };
  }
  return { icc: undefined, profile: 'srgb' };
}
