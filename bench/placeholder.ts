/**
 * `npx tsx bench/placeholder.ts [--rounds=N]`: the CPU one placeholder costs (ThumbHash, data
 * URI, JSON), per original of the corpus's camera and Kodak photos: made from the original
 * (the origin's miss: probe, shrink-on-load to ≤ 100 px) and from a 256 px level already
 * decoded (the pre-warm's `--facts`: transformMany's smallest level, as for the `thumb` preset);
 * and the JSON's size. CPU time of this process (user + system), so a busy machine does not
 * inflate it much. Prints a Markdown table.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { DEFAULT_LIMITS } from '../origin-fn/transform/limits.ts';
import { makePlaceholder, placeholderFromPixels } from '../origin-fn/transform/placeholder.ts';

const corpus = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'corpus', 'photos');
const roundsArg = process.argv.find((a) => a.startsWith('--rounds='));
const ROUNDS = roundsArg ? Number(roundsArg.slice('--rounds='.length)) : 3;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

console.log('| photos | originals | from the original, CPU ms | from a 256 px level, CPU ms | JSON bytes |');
console.log('|---|---:|---:|---:|---:|');
for (const set of ['camera', 'kodak']) {
  let files: string[];
  try {
    files = readdirSync(resolve(corpus, set)).filter((f) => /\.(jpe?g|png)$/i.test(f));
  } catch {
    console.log(`| ${set} | corpus missing | | | |`);
    continue;
  }
  let original = 0;
  let level = 0;
  let bytes = 0;
  let n = 0;
  for (const file of files) {
    const input = readFileSync(resolve(corpus, set, file));
    const small = await sharp(input)
      .autoOrient()
      .resize(256, 256, { fit: 'inside' })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const pixels = {
      data: small.data,
      width: small.info.width,
      height: small.info.height,
      channels: small.info.channels as 3 | 4,
    };
    for (let r = 0; r < ROUNDS; r++) {
      let t = cpuMs();
      const made = await makePlaceholder(input, undefined, DEFAULT_LIMITS);
      original += cpuMs() - t;
      t = cpuMs();
      await placeholderFromPixels(pixels, made);
      level += cpuMs() - t;
      bytes += JSON.stringify(made).length;
      n++;
    }
  }
  const f = (x: number) => (x / n).toFixed(1);
  console.log(`| ${set} | ${files.length} | ${f(original)} | ${f(level)} | ${(bytes / n).toFixed(0)} |`);
}
