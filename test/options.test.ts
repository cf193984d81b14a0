/**
 * src/options.ts: the one check of every options object (issue 12). Unknown keys are E_ARGUMENT with the key
 * that was meant; non-objects are refused; the suggestion rules (camelCase of snake_case, case-insensitive,
 * nearest by edit distance within a third of the key) on the typos people make.
 */
import { describe, expect, it } from 'vitest';
import { checkOptions, optionKeys, suggestKey } from '../src/options.js';
import { WasmzooError } from '../src/errors.js';

const KEYS = optionKeys<{ numLayers?: number; batchFirst?: boolean; weights?: string; bias?: boolean; dropout?: number }>({
  numLayers: 1, batchFirst: 1, weights: 1, bias: 1, dropout: 1,
});

function error(f: () => unknown): WasmzooError {
  try {
    f();
  } catch (e) {
    if (e instanceof WasmzooError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('checkOptions', () => {
  it('passes known keys (and undefined) through', () => {
    const o = { numLayers: 2, bias: undefined };
    expect(checkOptions('LSTM', o, KEYS)).toBe(o);
    expect(checkOptions('LSTM', undefined, KEYS)).toEqual({});
    expect(checkOptions('LSTM', {}, KEYS)).toEqual({});
  });

  it('names an unknown key, the key meant and the keys there are', () => {
    const e = error(() => checkOptions('LSTM', { num_layers: 2 }, KEYS));
    expect(e.code).toBe('E_ARGUMENT');
    expect(e.message).toBe('LSTM: unknown option "num_layers" (did you mean "numLayers"?); its options are numLayers, batchFirst, weights, bias, dropout');
    // a typo whose value is undefined is still a typo
    expect(error(() => checkOptions('x', { wieghts: undefined }, KEYS)).message).toMatch(/unknown option "wieghts" \(did you mean "weights"\?\)/);
    expect(error(() => checkOptions('x', { zzz: 1 }, [])).message).toBe('x: unknown option "zzz"; it takes no options');
  });

  it('refuses what is not an options object', () => {
    for (const bad of [null, false, 3, 'bias', [1, 2], new Float32Array(2)]) {
      const e = error(() => checkOptions('Linear', bad as never, KEYS));
      expect(e.code).toBe('E_ARGUMENT');
      expect(e.message).toMatch(/^Linear: options must be an object \(\{ numLayers, batchFirst, weights, bias, dropout \}\), got /);
    }
    expect(error(() => checkOptions('Linear', false as never, KEYS)).message).toMatch(/got boolean false$/);
  });
});

describe('suggestKey', () => {
  const cases: [string, string | undefined][] = [
    ['num_layers', 'numLayers'], ['batch_first', 'batchFirst'], ['batch-first', 'batchFirst'], ['NumLayers', 'numLayers'], ['numlayers', 'numLayers'],
    ['weight', 'weights'], ['wieghts', 'weights'], ['biass', 'bias'], ['dropuot', 'dropout'], ['layers', undefined], ['learningRate', undefined], ['x', undefined],
  ];
  it.each(cases)('%s -> %s', (key, meant) => expect(suggestKey(key, KEYS)).toBe(meant));
});
