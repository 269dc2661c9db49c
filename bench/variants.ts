/**
 * `npm run bench -- variants`: CPU per original for the default pre-warm set (presets thumb,
 * mobile, full × the f=auto formats AVIF, WebP, JPEG = 9 variants, q=auto), made variant by
 * variant (`transform` per spec: what pre-warm did before transform-many.ts) and from one decode
 * (`transformMany`: one decode per size, smaller sizes derived from larger pixels). The two run
 * interleaved on the same photos in one process; CPU seconds are this process's (all threads).
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_GRAMMAR_CONFIG } from '../edge-fn/grammar/index.ts';
import type { VariantSpec } from '../edge-fn/grammar/types.ts';
import { createTransformer, DEFAULT_LIMITS } from '../origin-fn/transform/index.ts';
import { planVariants } from '../prewarm/plan.ts';
import { loadPhotos } from './prewarm.ts';

const ROUNDS = 2;
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

export async function runVariantsBench() {
  const photos = loadPhotos();
  const bytes = photos.files.map((f) => readFileSync(f));
  const specs: VariantSpec[] = planVariants(
    'photos/p.jpg',
    ['thumb', 'mobile', 'full'],
    ['avif', 'webp', 'jpeg'],
    DEFAULT_GRAMMAR_CONFIG,
  ).map((p) => p.spec);
  const transformer = createTransformer(DEFAULT_LIMITS);
  let single = 0;
  let many = 0;
  let singleBytes = 0;
  let manyBytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const photo of bytes) {
      let c0 = cpuNow();
      for (const spec of specs) singleBytes += (await transformer.transform(photo, spec)).bytes.length;
      single += cpuNow() - c0;
      c0 = cpuNow();
      for (const o of (await transformer.transformMany?.(photo, specs)) ?? []) {
        if (!o.ok) throw o.error;
        manyBytes += o.result.bytes.length;
      }
      many += cpuNow() - c0;
    }
  }
  const originals = ROUNDS * bytes.length;
  const result = {
    photos: photos.files.map((f) => f.split('/').pop()),
    fallback: photos.fallback,
    variantsPerOriginal: specs.length,
    cpuSecondsPerOriginal: {
      perVariant: Math.round((single / originals) * 1000) / 1000,
      oneDecode: Math.round((many / originals) * 1000) / 1000,
    },
    cpuRatio: Math.round((many / single) * 1000) / 1000,
    bytesRatio: Math.round((manyBytes / singleBytes) * 1000) / 1000,
  };
  return result;
}
