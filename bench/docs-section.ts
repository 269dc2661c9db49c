/**
 * docs/quality.md is written by two evaluations: `npm run eval:quality` renders the page and
 * `npm run eval:documents` its "Documents and screenshots" section between two markers. Each
 * keeps the other's part: eval:quality carries the section over, eval:documents replaces only it.
 */
import { existsSync, readFileSync } from 'node:fs';

export const SECTION_START = '<!-- eval:documents start -->';
export const SECTION_END = '<!-- eval:documents end -->';

/** The section (markers included) in the page at `path`, or '' when it has none. */
export function documentsSection(path: string): string {
  if (!existsSync(path)) return '';
  const page = readFileSync(path, 'utf8');
  const start = page.indexOf(SECTION_START);
  const end = page.indexOf(SECTION_END);
  return start >= 0 && end > start ? page.slice(start, end + SECTION_END.length) : '';
}

/** `page` with its section replaced by `section` (markers included), or `section` appended. */
export function withDocumentsSection(page: string, section: string): string {
  if (section === '') return page;
  const start = page.indexOf(SECTION_START);
  const end = page.indexOf(SECTION_END);
  if (start >= 0 && end > start) return page.slice(0, start) + section + page.slice(end + SECTION_END.length);
  return `${page.trimEnd()}\n\n${section}\n`;
}
