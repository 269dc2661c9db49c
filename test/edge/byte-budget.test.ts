import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BUDGETS, DEFAULT_GRAMMAR_CONFIG } from '../../edge-fn/grammar/config.ts';
import { parseVariantKey, resolveGrammarConfig } from '../../edge-fn/grammar/index.ts';
import { errorOf, keyOf, req } from './helpers.ts';

describe('maxkb= (byte budget in KB, snapped down to the budget ladder)', () => {
  it.each([
    ['/a.jpg?maxkb=50', 'v1/a.jpg/qauto.kb50.jpeg'],
    ['/a.jpg?maxkb=74', 'v1/a.jpg/qauto.kb50.jpeg'],
    ['/a.jpg?MAXKB=5', 'v1/a.jpg/qauto.kb5.jpeg'],
    ['/a.jpg?maxkb=10000', 'v1/a.jpg/qauto.kb2000.jpeg'],
    ['/a.jpg?maxkb=0100&w=800&q=70', 'v1/a.jpg/w828.q70.kb100.jpeg'],
    ['/a.jpg?maxkb=51&maxkb=74', 'v1/a.jpg/qauto.kb50.jpeg'],
  ])('%s → %s', (url, key) => {
    expect(keyOf(req(url))).toBe(key);
  });

  it.each([
    ['/a.jpg?maxkb=4', 'Invalid maxkb "4": expected at least 5, the smallest budget'],
    ['/a.jpg?maxkb=0', 'Invalid maxkb "0": expected an integer number of KB from 1 to 10000'],
    ['/a.jpg?maxkb=10001', 'Invalid maxkb "10001": expected an integer number of KB from 1 to 10000'],
    ['/a.jpg?maxkb=1.5', 'Invalid maxkb "1.5": expected an integer number of KB from 1 to 10000'],
    ['/a.jpg?maxkb=', 'Invalid maxkb "": expected an integer number of KB from 1 to 10000'],
    ['/a.jpg?maxkb=50&maxkb=100', 'Conflicting values for maxkb: "50" and "100"'],
  ])('%s → 400 %s', (url, message) => {
    expect(errorOf(req(url))).toMatchObject({ status: 400, code: 'IMG_BAD_PARAM', message });
  });

  it('comes from a preset too, snapped when the config is resolved', () => {
    const config = resolveGrammarConfig({ presets: { slow: { w: '828', maxkb: '60' } } });
    expect(config.presets.slow).toEqual({ w: '828', maxkb: '50' });
    expect(keyOf(req('/a.jpg?preset=slow', {}, config))).toBe('v1/a.jpg/w828.qauto.kb50.jpeg');
    expect(() => resolveGrammarConfig({ presets: { tiny: { maxkb: '1' } } })).toThrow(
      'Invalid preset "tiny": Invalid maxkb "1": expected at least 5, the smallest budget',
    );
  });

  it('follows a configured ladder of budgets', () => {
    const config = resolveGrammarConfig({ budgets: [8, 64] });
    expect(keyOf(req('/a.jpg?maxkb=63', {}, config))).toBe('v1/a.jpg/qauto.kb8.jpeg');
    expect(errorOf(req('/a.jpg?maxkb=7', {}, config)).message).toBe(
      'Invalid maxkb "7": expected at least 8, the smallest budget',
    );
  });

  it('bounded and reversible: 1 … 10000 KB make one key per budget step, each parsing back to its spec', () => {
    const keys = new Set<string>();
    for (let kb = 1; kb <= 10000; kb++) {
      const result = req(`/a.jpg?maxkb=${kb}`);
      if (!result.ok) {
        expect(kb).toBeLessThan(DEFAULT_BUDGETS[0] as number);
        continue;
      }
      keys.add(result.key);
      expect(result.spec.maxKb).toBeLessThanOrEqual(kb);
    }
    expect(keys.size).toBe(DEFAULT_BUDGETS.length);
    fc.assert(
      fc.property(
        fc.integer({ min: 5, max: 10000 }),
        fc.constantFrom('', '&w=800', '&q=60&f=webp'),
        (kb, rest) => {
          const result = req(`/a.jpg?maxkb=${kb}${rest}`);
          if (!result.ok) throw new Error(result.message);
          expect(parseVariantKey(result.key, DEFAULT_GRAMMAR_CONFIG)).toEqual(result.spec);
          expect(keyOf(req(`/a.jpg?${rest.slice(1)}${rest ? '&' : ''}maxkb=${result.spec.maxKb}`))).toBe(
            result.key,
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});
