/**
 * Files stay small (STYLE.md rule 9): no tracked source file outside bench/ over 400 lines,
 * tests included. A file that grows past it is split by topic, not given an exception.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MAX_LINES = 400;
const SOURCE = /\.(ts|tsx|js|mjs|cjs|html|css)$/;

/** The files git tracks, and the new ones it does not ignore (as they are on disk now). */
function trackedSources(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  });
  const files = out.split('\0').filter((file) => SOURCE.test(file) && !file.startsWith('bench/'));
  return [...new Set(files)].filter((file) => existsSync(join(root, file))).sort();
}

function lineCount(file: string): number {
  const text = readFileSync(join(root, file), 'utf8');
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

describe('file size', () => {
  it(`no tracked source file outside bench/ has more than ${MAX_LINES} lines`, () => {
    const files = trackedSources();
    // The listing itself works: the repo's own sources are in it, bench/ is not.
    expect(files).toContain('cli/litepix.ts');
    expect(files).toContain('test/repo/file-size.test.ts');
    expect(files.some((f) => f.startsWith('bench/'))).toBe(false);
    const over = files
      .map((file) => ({ file, lines: lineCount(file) }))
      .filter((f) => f.lines > MAX_LINES)
      .map((f) => `${f.file}: ${f.lines} lines`);
    expect(over, `split these by topic (at most ${MAX_LINES} lines each)`).toEqual([]);
  });
});
