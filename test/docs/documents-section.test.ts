/**
 * docs/quality.md has two writers (bench/docs-section.ts): eval:quality renders the page and
 * keeps the section eval:documents writes between its markers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  documentsSection,
  SECTION_END,
  SECTION_START,
  withDocumentsSection,
} from '../../bench/docs-section.ts';

const section = (body: string) => `${SECTION_START}\n${body}\n${SECTION_END}`;

describe('the documents section of docs/quality.md', () => {
  it('is carried over by a re-render of the page and replaced by a new one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'litepix-section-'));
    try {
      const path = join(dir, 'quality.md');
      writeFileSync(path, `# old page\n\n${section('documents v1')}\n\n## after\n`);
      expect(documentsSection(path)).toBe(section('documents v1'));
      const rerendered = withDocumentsSection('# new page\n', documentsSection(path));
      expect(rerendered).toBe(`# new page\n\n${section('documents v1')}\n`);
      const replaced = withDocumentsSection(rerendered, section('documents v2'));
      expect(replaced).toBe(`# new page\n\n${section('documents v2')}\n`);
      expect(documentsSection(join(dir, 'missing.md'))).toBe('');
      expect(withDocumentsSection('# page\n', '')).toBe('# page\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
