import { readFileSync } from 'node:fs';
import type { VariantSpec } from '../../edge-fn/grammar/types.ts';

/** A file of test/fixtures/images. */
export const fixture = (name: string) => readFileSync(new URL(`../fixtures/images/${name}`, import.meta.url));

/** A variant spec with defaults (inside, q=auto, JPEG) and the given overrides. */
export const spec = (over: Partial<VariantSpec> = {}): VariantSpec => ({
  source: 'photos/test.jpg',
  fit: 'inside',
  quality: 'auto',
  format: 'jpeg',
  ...over,
});

/** The committed document fixtures (test/fixtures/documents/generate.ts): screenshots and a phone photo. */
export const DOCUMENTS = ['receipt-screen.png', 'receipt-photo.jpg', 'ui-screen.png', 'chart-screen.png'];

/** A file of test/fixtures/documents. */
export const documentFixture = (name: string) =>
  readFileSync(new URL(`../fixtures/documents/${name}`, import.meta.url));
