/**
 * Hostile source files for the origin's tests, all made here, deterministically: mutations of
 * small fixture photos (seeded bit flips, truncations, header swaps…) and crafted files
 * (decompression bombs, thousand-frame animations, SVG with scripts and external references,
 * polyglots, empty files, non-images named like images).
 */
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { fixture } from './images.ts';

export { prng } from '../../bench/prng.ts';

export interface Sample {
  name: string;
  bytes: Buffer;
}

/**
 * Small photos in every input format, derived from one in-repo fixture (kodim23, 768×512)
 * plus a few tiny fixtures as they are.
 */
export async function smallPhotos(): Promise<Sample[]> {
  const base = sharp(fixture('kodim23-q95.jpg')).resize(64);
  return [
    { name: 'kodim23-64.jpg', bytes: await base.clone().jpeg({ quality: 85 }).toBuffer() },
    { name: 'kodim23-64-progressive.jpg', bytes: await base.clone().jpeg({ progressive: true }).toBuffer() },
    { name: 'kodim23-64.png', bytes: await base.clone().png().toBuffer() },
    { name: 'kodim23-64.webp', bytes: await base.clone().webp({ quality: 80 }).toBuffer() },
    { name: 'kodim23-64.gif', bytes: await base.clone().gif().toBuffer() },
    { name: 'kodim23-64.tif', bytes: await base.clone().tiff({ compression: 'lzw' }).toBuffer() },
    { name: 'kodim23-32.avif', bytes: await base.clone().resize(32).avif({ effort: 0 }).toBuffer() },
    { name: 'jpeg-minimal-329-bytes.jpg', bytes: fixture('jpeg-minimal-329-bytes.jpg') },
    { name: 'png-palette-256-colors.png', bytes: fixture('png-palette-256-colors.png') },
    { name: 'jpeg-cmyk-no-icc.jpg', bytes: fixture('jpeg-cmyk-no-icc.jpg') },
    { name: 'webp-animated-rotating-squares.webp', bytes: fixture('webp-animated-rotating-squares.webp') },
  ];
}

const HEADERS: Buffer[] = [
  Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
  Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'),
  Buffer.from('GIF89a'),
  Buffer.from('RIFF\0\0\0\0WEBPVP8 ', 'latin1'),
  Buffer.from('\0\0\0\x1cftypavif', 'latin1'),
  Buffer.from('II*\0'),
  Buffer.from('<svg xmlns="http://www.w3.org/2000/svg">'),
];

/** One mutation of `input`, chosen and shaped by `rand`; the name says what was done. */
export function mutate(input: Buffer, rand: () => number, others: Buffer[]): { how: string; bytes: Buffer } {
  const at = (n: number) => Math.floor(rand() * n);
  const out = Buffer.from(input);
  switch (at(7)) {
    case 0: {
      // Bit flips, half the time inside the header where sizes and markers live.
      const flips = 1 + at(8);
      const span = rand() < 0.5 ? Math.min(64, out.length) : out.length;
      for (let i = 0; i < flips; i++) {
        const pos = at(span);
        out[pos] = (out[pos] ?? 0) ^ (1 << at(8));
      }
      return { how: `flip${flips}`, bytes: out };
    }
    case 1: {
      const length = at(out.length);
      return { how: `truncate@${length}`, bytes: out.subarray(0, length) };
    }
    case 2: {
      // Another format's header over this one's.
      const header = HEADERS[at(HEADERS.length)] as Buffer;
      header.copy(out, 0);
      return { how: 'header-swap', bytes: out };
    }
    case 3: {
      // The first bytes (header) of another file over this one's body.
      const other = others[at(others.length)] as Buffer;
      const n = Math.min(other.length, out.length, 16 + at(200));
      other.copy(out, 0, 0, n);
      return { how: `head-graft${n}`, bytes: out };
    }
    case 4: {
      // A run of 0xff or 0x00 (sizes become huge or zero, markers repeat).
      const pos = at(Math.min(out.length, 128));
      const len = 1 + at(8);
      out.fill(rand() < 0.5 ? 0xff : 0x00, pos, pos + len);
      return { how: `fill@${pos}+${len}`, bytes: out };
    }
    case 5: {
      // A chunk of the file repeated in place (duplicated markers, chunks, frames).
      const start = at(out.length);
      const len = 1 + at(Math.min(512, out.length - start));
      return {
        how: `dup@${start}+${len}`,
        bytes: Buffer.concat([out.subarray(0, start + len), out.subarray(start)]),
      };
    }
    default: {
      // Random garbage spliced into the middle.
      const pos = at(out.length);
      const junk = Buffer.alloc(1 + at(64));
      for (let i = 0; i < junk.length; i++) junk[i] = at(256);
      return { how: `splice@${pos}`, bytes: Buffer.concat([out.subarray(0, pos), junk, out.subarray(pos)]) };
    }
  }
}

export function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid PNG header claiming `width`×`height` (8-bit RGB), followed by `rows` rows of data. */
export function pngClaiming(width: number, height: number, rows = 1): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  // Each row: filter byte 0 then black pixels; deflate makes it a few hundred bytes.
  const raw = Buffer.alloc(rows * (1 + width * 3));
  return Buffer.concat([
    Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A real small JPEG whose SOF marker is rewritten to claim `width`×`height`. */
export async function jpegClaiming(width: number, height: number): Promise<Buffer> {
  const jpeg = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } })
    .jpeg()
    .toBuffer();
  for (let i = 2; i < jpeg.length - 9; i++) {
    // SOF0/SOF2: FF C0 / FF C2, length (2), precision (1), height (2), width (2).
    if (jpeg[i] === 0xff && (jpeg[i + 1] === 0xc0 || jpeg[i + 1] === 0xc2)) {
      jpeg.writeUInt16BE(height, i + 5);
      jpeg.writeUInt16BE(width, i + 7);
      return jpeg;
    }
  }
  throw new Error('no SOF marker in the generated JPEG');
}

/** Offsets of every SOS marker (0xFF 0xDA) in a JPEG sharp wrote (no metadata, so no false hit). */
export function sosOffsets(jpeg: Buffer): number[] {
  const out: number[] = [];
  for (
    let at = jpeg.indexOf('\xff\xda', 0, 'latin1');
    at >= 0;
    at = jpeg.indexOf('\xff\xda', at + 2, 'latin1')
  ) {
    out.push(at);
  }
  return out;
}

/**
 * A decoder bomb: a small progressive JPEG whose last scan is repeated until it has `scans`
 * scans (SOS segments) in all. The scans are found by plain byte search in a file sharp wrote.
 */
export async function jpegWithScans(scans: number): Promise<Buffer> {
  const jpeg = await sharp(fixture('kodim23-q95.jpg')).resize(64).jpeg({ progressive: true }).toBuffer();
  const sos = sosOffsets(jpeg);
  const last = sos.at(-1);
  if (last === undefined || sos.length > scans) throw new Error(`cannot make a JPEG of ${scans} scans`);
  const scan = jpeg.subarray(last, jpeg.length - 2);
  const extra: Buffer[] = new Array(scans - sos.length).fill(scan);
  return Buffer.concat([jpeg.subarray(0, jpeg.length - 2), ...extra, jpeg.subarray(jpeg.length - 2)]);
}

/**
 * An animation of `frames` tiny two-colour frames, as GIF or lossless WebP. Frame f shows the
 * bits of f as white pixels, so no two frames are alike and encoders cannot merge them.
 */
export async function animation(format: 'gif' | 'webp', frames: number, side = 16): Promise<Buffer> {
  const area = side * side;
  const raw = Buffer.alloc(area * 3 * frames);
  for (let f = 0; f < frames; f++) {
    for (let bit = 0; bit < area && f >> bit > 0; bit++) {
      if ((f >> bit) & 1) raw.fill(255, (f * area + bit) * 3, (f * area + bit + 1) * 3);
    }
  }
  const image = sharp(raw, { raw: { width: side, height: side * frames, channels: 3, pageHeight: side } });
  return format === 'gif'
    ? image.gif({ delay: 10, dither: 0 }).toBuffer()
    : image.webp({ lossless: true, effort: 0, delay: 10 }).toBuffer();
}

/**
 * SVG that would run a script and fetch `externalUrl` (and a local file) if anything rendered
 * it naively; with `xxe`, also an external XML entity naming /etc/passwd.
 */
export function hostileSvg(externalUrl: string, xxe: boolean): Buffer {
  const doctype = xxe ? '<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' : '';
  return Buffer.from(
    `<?xml version="1.0"?>
${doctype}
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64" onload="alert(1)">
  <script>fetch('${externalUrl}/script')</script>
  <rect width="64" height="64" fill="#3366cc"/>
  <image href="${externalUrl}/href.png" width="32" height="32"/>
  <image xlink:href="${externalUrl}/xlink.png" x="32" width="32" height="32"/>
  <image xlink:href="file:///etc/passwd" y="32" width="32" height="32"/>
  <text y="60">${xxe ? '&xxe;' : 'hello'}</text>
  <style>@import url('${externalUrl}/style.css');</style>
</svg>`,
  );
}

export interface Crafted extends Sample {
  /** Statuses the origin may answer (DESIGN.md / the error table in docs/origin.md), with why. */
  expect: number[];
  why: string;
}

/** Crafted hostile files and the documented answer to each (with SVG off, the default). */
export async function craftedFiles(externalUrl: string): Promise<Crafted[]> {
  const smallJpeg = await sharp(fixture('kodim23-q95.jpg')).resize(64).jpeg({ quality: 95 }).toBuffer();
  const html = Buffer.from(
    `<html><script>alert(document.cookie)</script>${'<!-- pad -->'.repeat(400)}</html>`,
  );
  return [
    { name: 'empty.jpg', bytes: Buffer.alloc(0), expect: [415], why: 'zero bytes' },
    {
      name: 'text.jpg',
      bytes: Buffer.from('just some text, not a JPEG\n'),
      expect: [415],
      why: 'not an image',
    },
    { name: 'page.png', bytes: html, expect: [415], why: 'HTML named .png' },
    {
      name: 'doc.webp',
      bytes: Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n'),
      expect: [415],
      why: 'PDF named .webp',
    },
    {
      name: 'archive.gif',
      bytes: Buffer.from('PK\x03\x04\x14\0\0\0\0\0', 'latin1'),
      expect: [415],
      why: 'ZIP named .gif',
    },
    {
      name: 'script.avif',
      bytes: Buffer.from('#!/bin/sh\nrm -rf /\n'),
      expect: [415],
      why: 'shell script named .avif',
    },
    {
      name: 'magic-only.jpg',
      bytes: Buffer.from([0xff, 0xd8, 0xff]),
      expect: [415],
      why: 'a JPEG signature and nothing else',
    },
    {
      name: 'png-bomb-60000.png',
      bytes: pngClaiming(60_000, 60_000),
      expect: [413],
      why: 'PNG header claims 3.6 GP',
    },
    {
      name: 'png-16383-square.png',
      bytes: pngClaiming(16_383, 16_383),
      expect: [413],
      why: 'PNG 268 MP, over 100 MP',
    },
    {
      name: 'png-wide-1x4e9.png',
      bytes: pngClaiming(1, 2 ** 31 - 1),
      expect: [413, 415],
      why: 'PNG height 2^31-1',
    },
    {
      name: 'jpeg-bomb-60000.jpg',
      bytes: await jpegClaiming(60_000, 60_000),
      expect: [413],
      why: 'JPEG SOF claims 3.6 GP',
    },
    {
      name: 'png-81mp-tiny.png',
      bytes: pngClaiming(9_000, 9_000, 2),
      expect: [415],
      why: 'under the pixel limit but the data stops after 2 rows: corrupt, never a half image',
    },
    {
      name: 'jpeg-2000-scans.jpg',
      bytes: await jpegWithScans(2000),
      expect: [413],
      why: 'progressive JPEG with 2000 scans (limit 64): refused before decoding',
    },
    {
      name: 'gif-3000-frames.gif',
      bytes: await animation('gif', 3000),
      expect: [413],
      why: 'GIF with 3000 frames (limit 200)',
    },
    {
      name: 'webp-3000-frames.webp',
      bytes: await animation('webp', 3000),
      expect: [413],
      why: 'WebP with 3000 frames',
    },
    {
      name: 'svg-hostile.svg',
      bytes: hostileSvg(externalUrl, false),
      expect: [415],
      why: 'SVG is off by default',
    },
    {
      name: 'svg-xxe.svg',
      bytes: hostileSvg(externalUrl, true),
      expect: [415],
      why: 'SVG is off by default',
    },
    {
      name: 'polyglot-jpeg-pdf-zip.jpg',
      bytes: fixture('polyglot-jpeg-pdf-zip.jpg'),
      expect: [415],
      why: 'strict decoding refuses the extraneous bytes',
    },
    {
      name: 'jpeg-then-html.jpg',
      bytes: Buffer.concat([smallJpeg, html]),
      expect: [200, 415],
      why: 'a JPEG with an HTML page appended: re-encoded (never passed through) or refused',
    },
    {
      name: 'heic-header.heic',
      bytes: fixture('heic-iphone-header-8kb.heic'),
      expect: [415],
      why: 'HEIC cut after 8 KB: its HEVC tiles are truncated',
    },
    { name: 'gif-truncated.gif', bytes: fixture('gif-truncated.gif'), expect: [415], why: 'truncated' },
    {
      name: 'jpeg-corrupt-header.jpg',
      bytes: fixture('jpeg-corrupt-header.jpg'),
      expect: [415],
      why: 'corrupt header',
    },
  ];
}
