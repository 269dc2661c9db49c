/** The client hints in the grammar: ECT/RTT/Downlink → qlite unless q is fixed; Sec-CH-DPR and Sec-CH-Width. */
import { describe, expect, it } from 'vitest';
import { resolveGrammarConfig } from '../../edge-fn/grammar/index.ts';
import { errorOf, keyOf, req } from './helpers.ts';

describe('network and width client hints', () => {
  it.each([
    [{ ectHint: '3g' }, 'qlite'],
    [{ ectHint: 'slow-2g' }, 'qlite'],
    [{ ectHint: ' 2G ' }, 'qlite'],
    [{ ectHint: '4g' }, 'qauto'],
    [{ rttHint: '300' }, 'qlite'],
    [{ rttHint: '270' }, 'qlite'],
    [{ rttHint: '250' }, 'qauto'],
    [{ downlinkHint: '0.5' }, 'qlite'],
    [{ downlinkHint: '0.7' }, 'qauto'],
    [{ downlinkHint: '10' }, 'qauto'],
    [{ ectHint: 'fast', rttHint: 'soon', downlinkHint: '-1' }, 'qauto'],
    [{ saveData: 'on', ectHint: '4g' }, 'qlite'],
  ])('%j → %s for q=auto', (headers, token) => {
    expect(keyOf(req('/a.jpg?w=800', headers))).toBe(`v1/a.jpg/w828.${token}.jpeg`);
  });

  it('never overrides a quality fixed by the URL or a preset', () => {
    expect(keyOf(req('/a.jpg?w=800&q=80', { ectHint: '2g' }))).toBe('v1/a.jpg/w828.q80.jpeg');
    const config = resolveGrammarConfig({ presets: { hq: { q: '90' } } });
    expect(keyOf(req('/a.jpg?preset=hq', { ectHint: '2g' }, config))).toBe('v1/a.jpg/q90.jpeg');
  });

  it('uses DPR when the URL has no dpr, and the width hint when it has no size', () => {
    expect(keyOf(req('/a.jpg?w=400', { dprHint: '2' }))).toBe('v1/a.jpg/w828.qauto.jpeg');
    expect(keyOf(req('/a.jpg?w=400&dpr=1', { dprHint: '3' }))).toBe('v1/a.jpg/w414.qauto.jpeg');
    expect(keyOf(req('/a.jpg', { widthHint: '1000' }))).toBe('v1/a.jpg/w1024.qauto.jpeg');
    expect(keyOf(req('/a.jpg', { widthHint: '1000', dprHint: '3' }))).toBe('v1/a.jpg/w1024.qauto.jpeg');
    expect(keyOf(req('/a.jpg?w=300', { widthHint: '1000' }))).toBe('v1/a.jpg/w320.qauto.jpeg');
    expect(keyOf(req('/a.jpg?h=300', { widthHint: '1000' }))).toBe('v1/a.jpg/h320.qauto.jpeg');
  });

  it('clamps hinted sizes to the largest step instead of refusing them (a header is not a typo)', () => {
    expect(keyOf(req('/a.jpg?w=3000', { dprHint: '3' }))).toBe('v1/a.jpg/w4096.qauto.jpeg');
    expect(keyOf(req('/a.jpg', { widthHint: '9000' }))).toBe('v1/a.jpg/w4096.qauto.jpeg');
    expect(keyOf(req('/a.jpg?w=400', { dprHint: '9' }))).toBe('v1/a.jpg/w1600.qauto.jpeg');
    expect(keyOf(req('/a.jpg?w=400', { dprHint: '0.5' }))).toBe('v1/a.jpg/w414.qauto.jpeg');
    expect(errorOf(req('/a.jpg?w=3000&dpr=3')).status).toBe(400);
  });

  it('ignores malformed hints', () => {
    for (const bad of ['', 'abc', '-2', '1e3', '2,5', '1'.repeat(20)]) {
      expect(
        keyOf(req('/a.jpg?w=400', { dprHint: bad, widthHint: bad, rttHint: bad, downlinkHint: bad })),
      ).toBe('v1/a.jpg/w414.qauto.jpeg');
    }
  });

  it('takes its thresholds from the configuration, where 0 turns a rule off', () => {
    const config = resolveGrammarConfig({ slowLink: { ect: ['2g'], rttMs: 0, downlinkMbps: 0 } });
    expect(keyOf(req('/a.jpg', { ectHint: '3g', rttHint: '5000', downlinkHint: '0.01' }, config))).toBe(
      'v1/a.jpg/qauto.jpeg',
    );
    expect(keyOf(req('/a.jpg', { ectHint: '2g' }, config))).toBe('v1/a.jpg/qlite.jpeg');
    expect(() => resolveGrammarConfig({ slowLink: { ect: ['5g'], rttMs: 270, downlinkMbps: 0.7 } })).toThrow(
      /Invalid slowLink\.ect entry "5g"/,
    );
  });
});
