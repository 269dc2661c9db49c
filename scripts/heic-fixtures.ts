/**
 * Makes the HEIC test fixtures (test/fixtures/images/heic-*.heic) at dev time: `npx tsx
 * scripts/heic-fixtures.ts`. Needs `heif-enc` (Debian: apt-get install libheif-examples, libheif
 * 1.15 with x265); nothing here runs in the tests, which use the committed files.
 *
 * - heic-kodim23.heic: examples/images/kodim23.png (Kodak) at quality 50, 768×512.
 * - heic-kodim23-exif6.heic: kodim23 at 384 px wide, as a JPEG with EXIF orientation 6, encoded
 *   by heif-enc (which keeps the EXIF and writes no irot): displayed 384×256, EXIF ignored.
 * - heic-kodim23-irot90-exif6.heic: the same with an `irot` property (90° anticlockwise) added
 *   to the primary item here, box by box: displayed 256×384, and the EXIF 6 must not rotate it
 *   again.
 * - heic-display-p3.heic: 64×64 halves of two colours converted by sharp from sRGB to Display P3
 *   and tagged with its ICC profile (quality 90, 4:4:4): must come back as the sRGB colours.
 * - heic-kodim23-truncated.heic: the first 60 % of heic-kodim23.heic.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';

const root = resolve(import.meta.dirname, '..');
const out = (name: string) => join(root, 'test/fixtures/images', name);
const tmp = mkdtempSync(join(tmpdir(), 'litepix-heic-'));

/** The sRGB colours of heic-display-p3.heic (left, right); test/origin/heic.test.ts expects them. */
const P3_FIXTURE_SRGB = [
  [222, 46, 56],
  [60, 170, 80],
] as const;

function heifEnc(input: string, output: string, ...args: string[]): Buffer {
  execFileSync('heif-enc', [...args, '-o', output, input], { stdio: 'ignore' });
  return readFileSync(output);
}

interface Box {
  type: string;
  start: number;
  size: number;
  /** Where the children start (after the header, and the version/flags of a full box). */
  body: number;
}

function boxes(file: Buffer, from: number, to: number, full = false): Box[] {
  const list: Box[] = [];
  for (let at = from + (full ? 4 : 0); at < to; ) {
    const size = file.readUInt32BE(at);
    const type = file.toString('latin1', at + 4, at + 8);
    list.push({ type, start: at, size, body: at + 8 });
    at += size;
  }
  return list;
}

const find = (list: Box[], type: string): Box => {
  const box = list.find((b) => b.type === type);
  if (!box) throw new Error(`no ${type} box`);
  return box;
};

/** Adds `irot` (angle × 90° anticlockwise) to the primary item; fixes the sizes and iloc offsets. */
function addIrot(file: Buffer, angle: number): Buffer {
  const top = boxes(file, 0, file.length);
  const meta = find(top, 'meta');
  const inMeta = boxes(file, meta.body, meta.start + meta.size, true);
  const iprp = find(inMeta, 'iprp');
  const [ipco, ipma] = [
    find(boxes(file, iprp.body, iprp.start + iprp.size), 'ipco'),
    find(boxes(file, iprp.body, iprp.start + iprp.size), 'ipma'),
  ];
  const pitm = find(inMeta, 'pitm');
  const primary = file[pitm.body] === 0 ? file.readUInt16BE(pitm.body + 4) : file.readUInt32BE(pitm.body + 4);
  const index = boxes(file, ipco.body, ipco.start + ipco.size).length + 1;
  const irot = Buffer.from([0, 0, 0, 9, ...Buffer.from('irot'), angle & 3]);
  // ipma: version, flags, entry_count, then item_ID, association_count, associations.
  const version = file[ipma.body] ?? 0;
  const wide = ((file[ipma.body + 3] ?? 0) & 1) === 1;
  let at = ipma.body + 8;
  let insertAt = -1;
  let countAt = -1;
  const entries = file.readUInt32BE(ipma.body + 4);
  for (let e = 0; e < entries; e++) {
    const item = version < 1 ? file.readUInt16BE(at) : file.readUInt32BE(at);
    at += version < 1 ? 2 : 4;
    const count = file[at] ?? 0;
    if (item === primary) countAt = at;
    at += 1 + count * (wide ? 2 : 1);
    if (item === primary) insertAt = at;
  }
  if (insertAt < 0) throw new Error(`item ${primary} has no ipma entry`);
  const association = wide ? Buffer.from([0x80 | (index >> 8), index & 0xff]) : Buffer.from([0x80 | index]);
  const delta = irot.length + association.length;
  const ipcoEnd = ipco.start + ipco.size;
  const parts = [
    file.subarray(0, ipcoEnd),
    irot,
    file.subarray(ipcoEnd, insertAt),
    association,
    file.subarray(insertAt),
  ];
  const patched = Buffer.concat(parts);
  const shift = (pos: number) => (pos >= insertAt ? pos + delta : pos >= ipcoEnd ? pos + irot.length : pos);
  const grow = (box: Box, by: number) => patched.writeUInt32BE(box.size + by, shift(box.start));
  grow(meta, delta);
  grow(iprp, delta);
  grow(ipco, irot.length);
  grow(ipma, association.length);
  patched[shift(countAt)] = (file[countAt] ?? 0) + 1;
  shiftIloc(patched, shift(find(inMeta, 'iloc').body), meta.start + meta.size, delta);
  return patched;
}

/** Adds `delta` to every file offset in iloc that points past `after` (into mdat). */
function shiftIloc(file: Buffer, body: number, after: number, delta: number): void {
  const version = file[body] ?? 0;
  const sizes = file[body + 4] ?? 0;
  const more = file[body + 5] ?? 0;
  const [offsetSize, lengthSize, baseSize] = [sizes >> 4, sizes & 15, more >> 4];
  const indexSize = version >= 1 ? more & 15 : 0;
  const read = (at: number, n: number) =>
    n === 0 ? 0 : n === 4 ? file.readUInt32BE(at) : Number(file.readBigUInt64BE(at));
  const write = (at: number, n: number, v: number) =>
    n === 4 ? file.writeUInt32BE(v, at) : n === 8 ? file.writeBigUInt64BE(BigInt(v), at) : undefined;
  let at = body + 6;
  const items = version < 2 ? file.readUInt16BE(at) : file.readUInt32BE(at);
  at += version < 2 ? 2 : 4;
  for (let i = 0; i < items; i++) {
    at += version < 2 ? 2 : 4;
    const method = version >= 1 ? file.readUInt16BE(at) & 15 : 0;
    if (version >= 1) at += 2;
    at += 2; // data_reference_index
    const base = read(at, baseSize);
    if (method === 0 && baseSize > 0 && base >= after) write(at, baseSize, base + delta);
    at += baseSize;
    const extents = file.readUInt16BE(at);
    at += 2;
    for (let e = 0; e < extents; e++) {
      at += indexSize;
      const offset = read(at, offsetSize);
      if (method === 0 && baseSize === 0 && offset >= after) write(at, offsetSize, offset + delta);
      at += offsetSize + lengthSize;
    }
  }
}

const kodim23 = join(root, 'examples/images/kodim23.png');
const full = heifEnc(kodim23, join(tmp, 'k23.heic'), '-q', '50');
writeFileSync(out('heic-kodim23.heic'), full);
writeFileSync(out('heic-kodim23-truncated.heic'), full.subarray(0, Math.round(full.length * 0.6)));

await sharp(kodim23)
  .resize(384)
  .withMetadata({ orientation: 6 })
  .jpeg({ quality: 95 })
  .toFile(join(tmp, 'o6.jpg'));
const exif6 = heifEnc(join(tmp, 'o6.jpg'), join(tmp, 'o6.heic'), '-q', '50');
writeFileSync(out('heic-kodim23-exif6.heic'), exif6);
writeFileSync(out('heic-kodim23-irot90-exif6.heic'), addIrot(exif6, 1));

const half = (rgb: readonly number[]) =>
  sharp({
    create: {
      width: 32,
      height: 64,
      channels: 3,
      background: { r: rgb[0] ?? 0, g: rgb[1] ?? 0, b: rgb[2] ?? 0 },
    },
  })
    .png()
    .toBuffer();
const [left, right] = await Promise.all(P3_FIXTURE_SRGB.map(half));
await sharp({ create: { width: 64, height: 64, channels: 3, background: '#000' } })
  .composite([
    { input: left as Buffer, left: 0, top: 0 },
    { input: right as Buffer, left: 32, top: 0 },
  ])
  .withIccProfile('p3')
  .png()
  .toFile(join(tmp, 'p3.png'));
writeFileSync(
  out('heic-display-p3.heic'),
  heifEnc(join(tmp, 'p3.png'), join(tmp, 'p3.heic'), '-q', '90', '-p', 'chroma=444'),
);
rmSync(tmp, { recursive: true, force: true });
