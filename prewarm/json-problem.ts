/**
 * What is wrong with text JSON.parse refused, said for a person: where it breaks (column, and
 * the text just before) and what was expected, instead of V8's own message ("Unexpected token
 * 'o', "not json" is not valid JSON", "… in JSON at position 42"), which changes between Node
 * versions and quotes the whole input back.
 */

const SNIPPET = 30;

/** V8's messages that say what was expected, before " in JSON at position N". */
const EXPECTED =
  /^((?:Expected|Bad control character|Bad escaped character|Unexpected number|Unexpected string).*?) in JSON at position (\d+)/;

function before(text: string, position: number): string {
  const start = Math.max(0, position - SNIPPET);
  return `${start > 0 ? '…' : ''}${text.slice(start, position)}`;
}

export function jsonProblem(text: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (text.trim() === '') return 'it is empty';
  if (/^Unexpected end of JSON input/.test(message) || /^Unterminated string/.test(message))
    return `it ends before the value is complete (a missing '}', ']' or '"'?), after: ${before(text, text.length)}`;
  const trailing = /^Unexpected non-whitespace character after JSON at position (\d+)/.exec(message);
  if (trailing) {
    const position = Number(trailing[1]);
    return `it goes on after its value ends, at column ${position + 1} (one Data Unit per line), just after: ${before(text, position)}`;
  }
  const expected = EXPECTED.exec(message);
  if (expected) {
    const what = (expected[1] as string).replace(/^./, (c) => c.toLowerCase());
    const position = Number(expected[2]);
    const context = position > 0 ? `, just after: ${before(text, position)}` : '';
    return `it breaks at column ${position + 1} (${what})${context}`;
  }
  const token = /^Unexpected token '([^']*)'/.exec(message)?.[1];
  if (token !== undefined) {
    const start = text.trimStart().slice(0, SNIPPET);
    return /^[{[]/.test(start)
      ? `it has '${token}' where a value belongs (strings in double quotes, true/false/null in lower case)`
      : `it starts with "${start}", not with '{' (a Data Unit is a JSON object)`;
  }
  return 'it is not JSON';
}
