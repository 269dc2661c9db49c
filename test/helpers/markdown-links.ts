/**
 * Relative links and #anchors of markdown files, checked the way GitHub renders them: a link
 * resolves to a file (or folder) beside the one that holds it, and an anchor to a heading of
 * that file under GitHub's slug rules (github-slugger: lower case, punctuation dropped, spaces
 * to hyphens, repeated headings numbered -1, -2, …).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export interface BrokenLink {
  file: string;
  line: number;
  target: string;
  reason: string;
}

/** GitHub's anchor for a heading's text. */
export function githubSlug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** The text of a heading as GitHub slugs it: inline links keep their text, images their alt. */
function headingText(raw: string): string {
  return raw
    .replace(/\s+#+\s*$/, '')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim();
}

/** Lines outside fenced code blocks, with inline code spans blanked (links there are text). */
function proseLines(markdown: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let fence: string | undefined;
  markdown.split('\n').forEach((text, i) => {
    const opener = /^\s{0,3}(`{3,}|~{3,})/.exec(text)?.[1];
    if (fence !== undefined) {
      if (opener !== undefined && opener[0] === fence[0] && opener.length >= fence.length) fence = undefined;
      return;
    }
    if (opener !== undefined) {
      fence = opener;
      return;
    }
    out.push({ line: i + 1, text: text.replace(/(`+)[^`]*?\1/g, (m) => ' '.repeat(m.length)) });
  });
  return out;
}

/** Every anchor a markdown document's headings give, in GitHub's numbering of duplicates. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const text of markdown.split('\n')) {
    const opener = /^\s{0,3}(`{3,}|~{3,})/.exec(text)?.[1];
    if (fence !== undefined) {
      if (opener !== undefined && opener[0] === fence[0] && opener.length >= fence.length) fence = undefined;
      continue;
    }
    if (opener !== undefined) {
      fence = opener;
      continue;
    }
    const heading = /^\s{0,3}#{1,6}\s+(.*)$/.exec(text)?.[1];
    if (heading === undefined) continue;
    const base = githubSlug(headingText(heading));
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** The link targets of a markdown document: inline links and images, and reference definitions. */
export function linkTargets(markdown: string): { line: number; target: string }[] {
  const out: { line: number; target: string }[] = [];
  for (const { line, text } of proseLines(markdown)) {
    for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g))
      out.push({ line, target: m[1] as string });
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/.exec(text)?.[1];
    if (definition !== undefined) out.push({ line, target: definition });
  }
  return out;
}

/** The broken relative links and anchors of `file` (a path under `root`). */
export function brokenLinks(root: string, file: string): BrokenLink[] {
  const path = join(root, file);
  const broken: BrokenLink[] = [];
  const anchorsOf = new Map<string, Set<string>>();
  const anchors = (p: string): Set<string> => {
    let set = anchorsOf.get(p);
    if (set === undefined) {
      set = headingAnchors(readFileSync(p, 'utf8'));
      anchorsOf.set(p, set);
    }
    return set;
  };
  for (const { line, target } of linkTargets(readFileSync(path, 'utf8'))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: not relative
    const hash = target.indexOf('#');
    const pathPart = decodeURI(hash === -1 ? target : target.slice(0, hash));
    const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const resolved = pathPart === '' ? path : join(dirname(path), pathPart);
    const shown = relative(root, resolved) || '.';
    if (pathPart.startsWith('/')) {
      broken.push({ file, line, target, reason: 'an absolute path: GitHub resolves it from the site root' });
      continue;
    }
    if (!existsSync(resolved)) {
      broken.push({ file, line, target, reason: `no file ${shown}` });
      continue;
    }
    if (anchor === undefined || anchor === '') continue;
    if (!statSync(resolved).isFile() || !resolved.endsWith('.md')) {
      broken.push({ file, line, target, reason: `#${anchor} on ${shown}, which is not a markdown file` });
      continue;
    }
    if (!anchors(resolved).has(anchor))
      broken.push({ file, line, target, reason: `no heading with the anchor #${anchor} in ${shown}` });
  }
  return broken;
}
