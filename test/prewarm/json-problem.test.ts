/**
 * A Data Unit that is not JSON is reported in words a person can act on (where it breaks and
 * what was expected), not with V8's JSON.parse message.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readUnits } from '../../prewarm/input.ts';
import { jsonProblem } from '../../prewarm/json-problem.ts';

function problem(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return jsonProblem(text, err);
  }
  throw new Error(`${text} parses`);
}

describe('what is wrong with a line that is not JSON', () => {
  it.each([
    [
      '{"id": "a", "cover": "samples/kodim15.png"',
      `it breaks at column 43 (expected ',' or '}' after property value), just after: …"cover": "samples/kodim15.png"`,
    ],
    ['{"a": 1,}', `it breaks at column 9 (expected double-quoted property name), just after: {"a": 1,`],
    ["{'id': 1}", `it breaks at column 2 (expected property name or '}'), just after: {`],
    ['not json at all', `it starts with "not json at all", not with '{' (a Data Unit is a JSON object)`],
    [
      '{"a": tru}',
      "it has '}' where a value belongs (strings in double quotes, true/false/null in lower case)",
    ],
    [
      '{"a": 1} x',
      'it goes on after its value ends, at column 10 (one Data Unit per line), just after: {"a": 1} ',
    ],
    ['{"a": "open', `it ends before the value is complete (a missing '}', ']' or '"'?), after: {"a": "open`],
    ['   ', 'it is empty'],
  ])('%s → %s', (text, expected) => {
    const said = problem(text);
    expect(said).toBe(expected);
    expect(said).not.toMatch(/in JSON at position|is not valid JSON/);
  });

  it('is what a failed unit says, with its line number', async () => {
    const items = [];
    for await (const item of readUnits(Readable.from(['{"id": 1}\n{"id": 2, "img": x}\n']))) items.push(item);
    expect(items[1]?.error).toEqual({
      code: 'PREWARM_BAD_JSON',
      message:
        "Data Unit 2 (line 2) is not valid JSON: it has 'x' where a value belongs (strings in double quotes, true/false/null in lower case)",
    });
  });
});
