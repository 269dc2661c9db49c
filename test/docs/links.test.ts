import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { brokenLinks, githubSlug, headingAnchors } from '../helpers/markdown-links.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const README_LIMIT = 15_000;

const DOCS = [
  'README.md',
  'SECURITY.md',
  'infra/README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

describe('the documentation links', () => {
  it.each(DOCS)('every relative link and #anchor in %s resolves to a file and heading', (file) => {
    expect(brokenLinks(ROOT, file)).toEqual([]);
  });

  it(`keeps README.md to at most ${README_LIMIT} bytes (the first screen; the rest lives in docs/)`, () => {
    expect(statSync(join(ROOT, 'README.md')).size).toBeLessThanOrEqual(README_LIMIT);
  });

  it('links every topic file in docs/ from the README', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const unlinked = DOCS.filter((f) => f.startsWith('docs/') && !readme.includes(`](${f})`));
    expect(unlinked).toEqual([]);
  });
});

describe('GitHub heading slugs', () => {
  it.each([
    ['Two commands', 'two-commands'],
    ['Local stack (`npm start`)', 'local-stack-npm-start'],
    ['q=auto: perceptual quality, measured', 'qauto-perceptual-quality-measured'],
    ['1,000,000 Data Units per hour on Lambda', '1000000-data-units-per-hour-on-lambda'],
    ["The CDK app's code", 'the-cdk-apps-code'],
    ['Faults (`test/origin/faults.test.ts`)', 'faults-testoriginfaultstestts'],
    ['LITEPIX_CDN_BASE and more', 'litepix_cdn_base-and-more'],
    ['Pre-warm (Data Units)', 'pre-warm-data-units'],
  ])('slugs %j as %j', (heading, slug) => {
    expect(githubSlug(heading)).toBe(slug);
  });

  it('numbers repeated headings and ignores headings inside code fences', () => {
    const anchors = headingAnchors('# A\n## Usage\n```sh\n# not a heading\n```\n## Usage\n### Usage\n');
    expect([...anchors]).toEqual(['a', 'usage', 'usage-1', 'usage-2']);
  });
});

describe('the link checker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'litepix-links-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'docs'));
  writeFileSync(join(dir, 'docs', 'topic.md'), '# Topic\n\n## Signed URLs\n');
  writeFileSync(
    join(dir, 'README.md'),
    [
      '# Title',
      '[ok](docs/topic.md#signed-urls) [self](#title) [web](https://example.com/x.md#nope)',
      '[gone](docs/missing.md) [bad anchor](docs/topic.md#signed-url) [bad self](#titles)',
      '`[in code](docs/missing.md)`',
      '```',
      '[in a fence](docs/missing.md)',
      '```',
      '![picture](docs/missing.webp)',
      '[ref]: docs/topic.md#nope',
    ].join('\n'),
  );

  it('reports missing files and anchors with the line and what is wrong, and nothing else', () => {
    expect(brokenLinks(dir, 'README.md')).toEqual([
      { file: 'README.md', line: 3, target: 'docs/missing.md', reason: 'no file docs/missing.md' },
      {
        file: 'README.md',
        line: 3,
        target: 'docs/topic.md#signed-url',
        reason: 'no heading with the anchor #signed-url in docs/topic.md',
      },
      {
        file: 'README.md',
        line: 3,
        target: '#titles',
        reason: 'no heading with the anchor #titles in README.md',
      },
      { file: 'README.md', line: 8, target: 'docs/missing.webp', reason: 'no file docs/missing.webp' },
      {
        file: 'README.md',
        line: 9,
        target: 'docs/topic.md#nope',
        reason: 'no heading with the anchor #nope in docs/topic.md',
      },
    ]);
  });
});
