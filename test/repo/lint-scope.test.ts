/**
 * `npm run lint` checks the project's own files, named in biome.json: its source folders and
 * root config files. Output a newcomer writes at the root (the README's report.json or
 * rewritten.ndjson, an out/ folder) cannot fail `npm test` at lint; and no tracked source
 * folder falls outside the list unnoticed.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const includes = (
  JSON.parse(readFileSync(join(root, 'biome.json'), 'utf8')) as { files: { includes: string[] } }
).files.includes;
const positive = includes.filter((p) => !p.startsWith('!'));

/** biome.json's positive patterns are `folder/**` or a root file name. */
function linted(file: string): boolean {
  return positive.some((p) => (p.endsWith('/**') ? file.startsWith(p.slice(0, -2)) : file === p));
}

/** Files biome would check by their kind (what it formats or lints). */
const CHECKED = /\.(ts|tsx|js|mjs|cjs|json|jsonc|css)$/;

describe('what npm run lint checks', () => {
  it('every tracked file biome can check is in a linted folder or a named root file', () => {
    expect(positive.every((p) => p.endsWith('/**') || !p.includes('*'))).toBe(true);
    const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
      .split('\0')
      .filter((f) => CHECKED.test(f) && f !== 'package-lock.json');
    expect(tracked.length).toBeGreaterThan(100);
    expect(tracked.filter((f) => !linted(f))).toEqual([]);
  });

  it.each(['report.json', 'rewritten.ndjson', 'units.json', 'out/report.json'])(
    'leaves %s at the root (example output) alone',
    (file) => {
      expect(linted(file)).toBe(false);
    },
  );
});
