/**
 * Token ids are checked in the embedding lookup op itself, so every path that reaches it refuses ids
 * outside the table (issue 15, item 3: inside a Sequential, a model or a training graph, ids 10, -1, 1.5 or
 * 1e9 for a 10-row table used to go straight to the lookup and read out of bounds).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/runtime/runtime.js';
import { Tensor } from '../../src/tensor.js';
import * as nn from '../../src/nn/index.js';
import { Seq2Seq } from '../../src/models/seq2seq.js';
import { WasmzooError } from '../../src/errors.js';
import '../../src/train/trainer.js';

const BAD = [10, -1, 1.5, 1e9, NaN];

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return e instanceof WasmzooError ? `${e.code}: ${e.message}` : `not a WasmzooError: ${String(e)}`;
  }
  return 'no error';
}

describe('embedding ids', () => {
  beforeAll(async () => {
    await init();
  });

  it('are refused inside a Sequential, naming the layer, position and value; good ids still work', () => {
    const net = new nn.Sequential(new nn.Embedding(10, 4), new nn.Flatten(), new nn.Linear(12, 2));
    const good = net.forward(new Tensor(new Float32Array([0, 9, 3]), [1, 3]));
    for (const bad of BAD) {
      const msg = code(() => net.forward(new Tensor(new Float32Array([1, bad, 2]), [1, 3])));
      expect(msg).toMatch(/^E_ARGUMENT: Sequential\[0\]: token id at flat index 1 is .*; ids must be integers in \[0, 10\)/);
    }
    expect(Array.from(net.forward(new Tensor(new Float32Array([0, 9, 3]), [1, 3])).data)).toEqual(Array.from(good.data));
  });

  it('are refused in a training step of a container', () => {
    const net = new nn.Sequential(new nn.Embedding(10, 4), new nn.Flatten(), new nn.Linear(8, 2));
    for (const bad of BAD) {
      expect(code(() => net.trainStep(new Tensor(new Float32Array([bad, 1]), [1, 2]), new Tensor(new Float32Array([0]), [1])))).toMatch(/^E_ARGUMENT: .*token id at flat index 0/);
    }
  });

  it('are refused in seq2seq decoding', () => {
    const m = new Seq2Seq({ srcVocab: 10, tgtVocab: 10, embeddingDim: 4, hiddenSize: 6 });
    for (const bad of BAD) {
      expect(code(() => m.greedy([[4, bad, 5]], { maxLength: 3 }))).toMatch(/^E_ARGUMENT: /);
      expect(code(() => m.beamSearch([4, bad, 5], { maxLength: 3, beamWidth: 2 }))).toMatch(/^E_ARGUMENT: /);
    }
  });
});
