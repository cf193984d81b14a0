/**
 * Module lifecycle (issue 15, items 11 and 13; issue 13's one plan cache):
 * - dispose() walks the tree: a disposed container's children throw E_DISPOSED instead of running on freed
 *   memory, and so do the VAE's encode/decode/sample (they used to rebuild their plans silently);
 * - loading weights into one model does not make every other model rebuild its plans;
 * - seq2seq decoding refuses a maxLength past the documented cap instead of running until memory runs out.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/nn/index.js';
import { init } from '../../src/runtime/runtime.js';
import { Tensor } from '../../src/tensor.js';
import { VAE } from '../../src/models/vae.js';
import { MAX_DECODE_LENGTH, Seq2Seq } from '../../src/models/seq2seq.js';
import { WasmzooError } from '../../src/errors.js';

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return e instanceof WasmzooError ? e.code : `not a WasmzooError: ${String(e)}`;
  }
  return 'no error';
}

describe('module lifecycle', () => {
  beforeAll(async () => {
    await init();
  });

  it('dispose() of a container disposes its children', () => {
    const conv = new nn.Conv2d(1, 2, 3);
    const lin = new nn.Linear(4, 2);
    const net = new nn.Sequential(conv, new nn.Flatten(), new nn.Linear(2 * 2 * 2, 4), new nn.ReLU(), lin);
    const x = new Tensor(new Float32Array(16), [1, 1, 4, 4]);
    net.forward(x);
    conv.forward(x);
    net.dispose();
    expect(code(() => net.forward(x))).toBe('E_DISPOSED');
    expect(code(() => conv.forward(x))).toBe('E_DISPOSED');
    expect(code(() => lin.forward(new Tensor(new Float32Array(4), [1, 4])))).toBe('E_DISPOSED');
    expect(code(() => lin.loadStateDict(lin.stateDict()))).toBe('E_DISPOSED');
  });

  it('a disposed VAE refuses encode, decode and sample', () => {
    const v = new VAE({ inputSize: 16, hidden: 8, latent: 2 });
    v.encode(new Tensor(new Float32Array(16), [1, 16]));
    v.dispose();
    expect(code(() => v.encode(new Tensor(new Float32Array(16), [1, 16])))).toBe('E_DISPOSED');
    expect(code(() => v.decode(new Tensor(new Float32Array(2), [1, 2])))).toBe('E_DISPOSED');
    expect(code(() => v.sample(3))).toBe('E_DISPOSED');
  });

  it('loading weights into one model keeps the plans of another', () => {
    const a = new nn.Linear(4, 3), b = new nn.Linear(4, 3);
    const x = new Tensor(new Float32Array(8), [2, 4]);
    const planA = a.planFor(x.shape), planB = b.planFor(x.shape);
    b.loadStateDict(new nn.Linear(4, 3).stateDict());
    expect(a.planFor(x.shape)).toBe(planA);
    expect(b.planFor(x.shape)).not.toBe(planB);
  });

  it('seq2seq decoding caps maxLength', () => {
    const m = new Seq2Seq({ srcVocab: 8, tgtVocab: 8, embeddingDim: 4, hiddenSize: 6 });
    expect(code(() => m.greedy([4, 5], { maxLength: 1e9 }))).toBe('E_ARGUMENT');
    expect(code(() => m.beamSearch([4, 5], { maxLength: MAX_DECODE_LENGTH + 1 }))).toBe('E_ARGUMENT');
    expect(m.greedy([4, 5], { maxLength: 3 })[0].length).toBeLessThanOrEqual(3);
  });
});

describe('strict loading of zoo models', () => {
  it('accepts a missing num_batches_tracked but refuses a foreign key ending in it', async () => {
    const { resnet18 } = await import('../../src/models/resnet.js');
    const m = await resnet18({ numClasses: 4 });
    const sd = m.stateDict();
    const without = Object.fromEntries(Object.entries(sd).filter(([k]) => !k.endsWith('num_batches_tracked')));
    expect(() => m.loadStateDict(without)).not.toThrow();
    const extra = { ...sd, 'decoy.num_batches_tracked': new Tensor(new Float32Array(1), []) };
    expect(() => m.loadStateDict(extra)).toThrow(/unexpected keys: decoy\.num_batches_tracked/);
    m.dispose();
  });
});
