/**
 * Reading Data Units: one JSON document (a unit, or an array of units) or NDJSON (one unit per
 * line). NDJSON is streamed line by line (readline), so a million lines are never in memory at
 * once; a JSON document is read whole, up to `maxDocumentBytes`.
 *
 * Detection, from the first non-blank line: `[` → a JSON document; a line that parses as JSON
 * → NDJSON; otherwise, when the next non-blank line parses as JSON, NDJSON whose first line is
 * bad (reported as such); else a (pretty-printed) JSON document.
 * In NDJSON a line that is not valid JSON is a failed unit (PREWARM_BAD_JSON); the rest go on.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { InputItem } from './prewarmer.ts';

export class InputError extends Error {
  override name = 'InputError';
}

export const DEFAULT_MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;
const MAX_LINE_CHARS = 16 * 1024 * 1024;

function parseLine(line: string, seq: number): InputItem {
  if (line.length > MAX_LINE_CHARS)
    return {
      seq,
      error: { code: 'PREWARM_BAD_JSON', message: `Line ${seq} is longer than ${MAX_LINE_CHARS} characters` },
    };
  try {
    return { seq, unit: JSON.parse(line) };
  } catch (err) {
    return {
      seq,
      error: {
        code: 'PREWARM_BAD_JSON',
        message: `Data Unit ${seq} is not valid JSON: ${(err as Error).message}`,
      },
    };
  }
}

const parses = (line: string) => {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
};

export async function* readUnits(
  input: Readable,
  maxDocumentBytes = DEFAULT_MAX_DOCUMENT_BYTES,
): AsyncGenerator<InputItem> {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })[Symbol.asyncIterator]();
  const head: string[] = [];
  let mode: 'ndjson' | 'document' | undefined;
  let documentChars = 0;
  for (;;) {
    const next = await lines.next();
    if (next.done) break;
    const line = next.value;
    if (mode === undefined) {
      if (line.trim() === '' && head.length === 0) continue;
      head.push(line);
      documentChars += line.length + 1;
      const first = (head[0] as string).trim();
      if (first.startsWith('[')) mode = 'document';
      else if (parses(first)) mode = 'ndjson';
      else if (head.length >= 2 && line.trim() !== '') mode = parses(line.trim()) ? 'ndjson' : 'document';
      if (mode === 'ndjson') {
        let seq = 0;
        for (const h of head) if (h.trim() !== '') yield parseLine(h.trim(), ++seq);
        yield* ndjson(lines, seq);
        return;
      }
      if (mode === 'document') continue;
    } else {
      head.push(line);
      documentChars += line.length + 1;
    }
    if (documentChars > maxDocumentBytes)
      throw new InputError(
        `The input is not NDJSON (its first line is not a JSON value) and, as one JSON document, it is larger than ${maxDocumentBytes} bytes`,
      );
  }
  if (head.length === 0) return;
  let doc: unknown;
  try {
    doc = JSON.parse(head.join('\n'));
  } catch (err) {
    if (head.filter((l) => l.trim() !== '').length === 1) {
      yield parseLine((head[0] as string).trim(), 1);
      return;
    }
    throw new InputError(`The input is neither NDJSON nor one JSON document: ${(err as Error).message}`);
  }
  if (Array.isArray(doc)) {
    for (let i = 0; i < doc.length; i++) yield { seq: i + 1, unit: doc[i] };
  } else {
    yield { seq: 1, unit: doc };
  }
}

async function* ndjson(lines: AsyncIterator<string>, start: number): AsyncGenerator<InputItem> {
  let seq = start;
  for (;;) {
    const next = await lines.next();
    if (next.done) return;
    const line = next.value.trim();
    if (line === '') continue;
    yield parseLine(line, ++seq);
  }
}

/** Units from an in-memory value: one unit, an array of them, or NDJSON text (SQS message bodies). */
export function unitsFromText(text: string, firstSeq = 1): InputItem[] {
  const trimmed = text.trim();
  try {
    const doc: unknown = JSON.parse(trimmed);
    const units = Array.isArray(doc) ? doc : [doc];
    return units.map((unit, i) => ({ seq: firstSeq + i, unit }));
  } catch {
    return trimmed
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .map((l, i) => parseLine(l, firstSeq + i));
  }
}
