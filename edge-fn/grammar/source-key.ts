/**
 * The original's key, taken from the request path, and the safety rules every key obeys:
 * no empty, `.` or `..` segments, no control characters (C0, DEL, C1 and the line/paragraph
 * separators U+2028/U+2029), no backslashes, no encoded slashes, no
 * percent-encoding left after one decode (double encoding), valid Unicode, and a variant
 * key of at most 1024 UTF-8 bytes (S3's limit).
 */
import { MAX_KEY_BYTES } from './config.ts';
import { fail, quote } from './errors.ts';
import type { GrammarError } from './types.ts';

const ENCODED_SEPARATOR = /%(2f|5c)/i;
const PERCENT_ESCAPE = /%[0-9a-f]{2}/i;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL_OR_BACKSLASH = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\\]/;
/** Characters encodeURIComponent leaves alone (plus "/"): a key made of them needs no encoding. */
const URL_SAFE = /^[A-Za-z0-9\-_.!~*'()/]*$/;

function badPath(path: string, why: string): GrammarError {
  return fail(400, 'IMG_BAD_PATH', `Invalid path ${quote(path)}: ${why}`);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range starts at U+0000.
const ASCII = /^[\x00-\x7f]*$/;

/** Bytes of a string in UTF-8; -1 when it holds an unpaired surrogate (not encodable). */
export function utf8Length(s: string): number {
  // ASCII (nearly every key) is one byte a character; the slow path is short in code: each UTF-8
  // byte of a non-ASCII character becomes one %XX, and an unpaired surrogate throws.
  if (ASCII.test(s)) return s.length;
  try {
    return encodeURIComponent(s).replace(/%../g, '.').length;
  } catch (_e) {
    return -1;
  }
}

/** Checks a decoded key (no leading slash). Returns undefined when it is safe. */
export function checkSourceKey(key: string, shownAs: string): GrammarError | undefined {
  if (key === '') return badPath(shownAs, 'expected /<key of the original image>, e.g. /photos/a.jpg');
  const bad = CONTROL_OR_BACKSLASH.exec(key);
  if (bad) {
    return badPath(
      shownAs,
      bad[0] === '\\' ? 'backslashes are not allowed' : 'control characters are not allowed',
    );
  }
  if (utf8Length(key) < 0) return badPath(shownAs, 'it is not valid Unicode');
  if (PERCENT_ESCAPE.test(key)) return badPath(shownAs, 'percent-encoding is allowed once, not twice');
  const segments = key.split('/');
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    if (seg === '') return badPath(shownAs, 'empty path segments are not allowed');
    if (seg === '.' || seg === '..') return badPath(shownAs, '"." and ".." segments are not allowed');
  }
  return undefined;
}

/**
 * Decodes a request path once (no leading "/" in the result), refusing encoded slashes and
 * backslashes and malformed percent-encoding. The edge and the origin both decode with it.
 */
export function decodePath(path: string): string | GrammarError {
  if (path.charAt(0) !== '/') return badPath(path, 'it must start with "/"');
  const raw = path.slice(1);
  if (ENCODED_SEPARATOR.test(raw)) return badPath(path, 'encoded slashes and backslashes are not allowed');
  try {
    return raw.indexOf('%') >= 0 ? decodeURIComponent(raw) : raw;
  } catch (_e) {
    return badPath(path, 'malformed percent-encoding');
  }
}

/** `/photos/my%20pic.jpg` → `photos/my pic.jpg`, or the reason it is refused. */
export function sourceFromPath(path: string): string | GrammarError {
  const key = decodePath(path);
  if (typeof key !== 'string') return key;
  const problem = checkSourceKey(key, path);
  return problem === undefined ? key : problem;
}

/** Percent-encode a key for a URL path, one segment at a time. */
export function encodeKeyPath(key: string): string {
  if (URL_SAFE.test(key)) return key;
  const segments = key.split('/');
  for (let i = 0; i < segments.length; i++) segments[i] = encodeURIComponent(segments[i] as string);
  return segments.join('/');
}

export function keyTooLong(key: string, shownAs: string): GrammarError | undefined {
  const bytes = utf8Length(key);
  if (bytes > MAX_KEY_BYTES) {
    return badPath(shownAs, `the variant key would be ${bytes} bytes, more than ${MAX_KEY_BYTES}`);
  }
  return undefined;
}
