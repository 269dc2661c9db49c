/**
 * Reading Data Units: one JSON document (a unit, or an array of units) or NDJSON (one unit per
 * line). The input is split into lines by a byte-counting reader (line-reader.ts), never by
 * readline: an NDJSON line longer than `maxLineBytes` is dropped while it is read and reported
 * as one failed unit (PREWARM_LINE_TOO_LONG, with its line number), so memory stays bounded
 * whatever the input and the lines after it go on. A JSON document is read whole, up to
 * `maxDocumentBytes`.
 *
 * Detection, from the first non-blank lines:
 *  - the first starts with `[` → a JSON document (an array of units), unless the first line is
 *    a whole array and another line follows (then NDJSON);
 *  - the first, or else the second, parses as JSON on its own → NDJSON;
 *  - otherwise lines are kept (up to `maxDocumentBytes`) until the end: when they parse
 *    together, a (pretty-printed) JSON document; when they don't but some line is a JSON object
 *    on its own, NDJSON whose bad lines fail one by one (a bad first line never rejects the
 *    file); a single bad line is one failed unit; else the input is refused (InputError).
 *    Past `maxDocumentBytes` it cannot be a document: NDJSON when a line so far is a JSON
 *    object, else refused.
 * In NDJSON a line that is not valid JSON is a failed unit (PREWARM_BAD_JSON); the rest go on.
 */
import { jsonProblem } from './json-problem.ts';
import { type Line, type LineReader, lineReader } from './line-reader.ts';
import type { InputItem } from './prewarmer.ts';

export class InputError extends Error {
  override name = 'InputError';
}

export const DEFAULT_MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;
/** Longest NDJSON line (one Data Unit), in bytes. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

export interface ReadOptions {
  maxDocumentBytes?: number | undefined;
  maxLineBytes?: number | undefined;
}

function parseText(text: string, seq: number, where = ''): InputItem {
  try {
    return { seq, unit: JSON.parse(text) };
  } catch (err) {
    return {
      seq,
      error: {
        code: 'PREWARM_BAD_JSON',
        message: `Data Unit ${seq}${where} is not valid JSON: ${jsonProblem(text, err)}`,
      },
    };
  }
}

function lineUnit(line: Line, seq: number, maxLineBytes: number): InputItem {
  if (line.text === undefined || line.bytes > maxLineBytes)
    return {
      seq,
      error: {
        code: 'PREWARM_LINE_TOO_LONG',
        message: `Data Unit ${seq} (line ${line.number}) is ${line.bytes} bytes long; an NDJSON line may hold at most ${maxLineBytes} bytes`,
      },
    };
  return parseText(line.text.trim(), seq, ` (line ${line.number})`);
}

const parses = (line: Line) => {
  if (line.text === undefined) return false;
  try {
    JSON.parse(line.text);
    return true;
  } catch {
    return false;
  }
};

const isObjectLine = (line: Line) => {
  const t = line.text?.trim() ?? '';
  return t.startsWith('{') && t.endsWith('}') && parses(line);
};

const isBlank = (line: Line) => line.text !== undefined && line.text.trim() === '';

export async function* readUnits(input: AsyncIterable<Buffer | string>, options: ReadOptions = {}) {
  const maxDocument = options.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  const maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const lines = lineReader(input);
  const head: Line[] = []; // non-blank lines read while the format is not known
  let headBytes = 0;
  let objectLine = false; // some head line is a JSON object on its own
  const asNdjson = async function* (): AsyncGenerator<InputItem> {
    let seq = 0;
    for (const line of head) yield lineUnit(line, ++seq, maxLine);
    yield* ndjson(lines, seq, maxLine);
  };
  for (;;) {
    // Until the format is known a line may be part of a document: keep up to what is left of it.
    const line = await lines.next(Math.max(maxLine, maxDocument - headBytes));
    if (line === undefined) break;
    if (isBlank(line)) continue;
    head.push(line);
    headBytes += line.bytes + 1;
    const first = head[0] as Line;
    const firstText = first.text?.trim() ?? '';
    // `[` opening a multi-line array is a document; a whole array on line 1 is one too, unless
    // a second line follows (then it was NDJSON, and that line a unit that is not an object).
    const openArray = firstText.startsWith('[') && !parses(first);
    if (
      !openArray &&
      ((parses(first) && (!firstText.startsWith('[') || head.length >= 2)) ||
        (head.length === 2 && parses(line)))
    ) {
      yield* asNdjson();
      return;
    }
    objectLine ||= isObjectLine(line);
    if (headBytes > maxDocument || line.text === undefined) {
      if (!openArray && objectLine) {
        yield* asNdjson();
        return;
      }
      // Past the document cap with one line only: the next line can still say NDJSON.
      if (openArray || head.length >= 2)
        throw new InputError(
          `The input is not NDJSON (none of its first lines is a JSON value) and, as one JSON document, it is larger than ${maxDocument} bytes`,
        );
    }
  }
  if (head.length === 0) return;
  let doc: unknown;
  try {
    doc = JSON.parse(head.map((l) => l.text).join('\n'));
  } catch (err) {
    const openArray = head[0]?.text?.trim().startsWith('[') === true;
    if ((objectLine && !openArray) || head.length === 1) {
      yield* asNdjson();
      return;
    }
    throw new InputError(`The input is neither NDJSON nor one JSON document: ${(err as Error).message}`);
  }
  const units = Array.isArray(doc) ? doc : [doc];
  for (let i = 0; i < units.length; i++) yield { seq: i + 1, unit: units[i] } as InputItem;
}

async function* ndjson(lines: LineReader, start: number, maxLine: number): AsyncGenerator<InputItem> {
  let seq = start;
  for (;;) {
    const line = await lines.next(maxLine);
    if (line === undefined) return;
    if (!isBlank(line)) yield lineUnit(line, ++seq, maxLine);
  }
}

/** Units from an in-memory value: one unit, an array of them, or NDJSON text (SQS message bodies). */
export function unitsFromText(
  text: string,
  firstSeq = 1,
  maxLineBytes = DEFAULT_MAX_LINE_BYTES,
): InputItem[] {
  const trimmed = text.trim();
  try {
    const doc: unknown = JSON.parse(trimmed);
    const units = Array.isArray(doc) ? doc : [doc];
    return units.map((unit, i) => ({ seq: firstSeq + i, unit }));
  } catch {
    const out: InputItem[] = [];
    text.split('\n').forEach((raw, i) => {
      if (raw.trim() === '') return;
      const line = { number: i + 1, bytes: Buffer.byteLength(raw), text: raw };
      out.push(lineUnit(line, firstSeq + out.length, maxLineBytes));
    });
    return out;
  }
}
