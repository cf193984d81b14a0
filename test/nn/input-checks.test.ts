/**
 * Tensor arguments are checked at every public entry before anything is written (issue 15, item 2): a
 * plain { data, shape } whose data is shorter than its shape used to read stale arena memory and return
 * an answer; longer, it wrote past the input block into the next model's weights. Not-a-tensor inputs
 * say what was expected (issue 12: `lenet.forward(new Float32Array(784))` threw a bare TypeError).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/nn/index.js';
import { init } from '../../src/runtime/runtime.js';
import { Tensor } from '../../src/tensor.js';
import { LeNet5 } from '../../src/models/lenet.js';
import { VAE } from '../../src/models/vae.js';
import { hashWeights } from '../../src/models/hashweights.js';
import { WasmzooError } from '../../src/errors.js';
import '../../src/train/trainer.js';

function err(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return e instanceof WasmzooError ? `${e.code}: ${e.message}` : `not a WasmzooError: ${String(e)}`;
  }
  return 'no error';
}

describe('tensor arguments at public entries', () => {
  beforeAll(async () => {
    await init();
  });

  it('a too-long or too-short plain input is refused and leaves the next model intact', () => {
    const a = hashWeights(new LeNet5(), 1), b = hashWeights(new LeNet5(), 2);
    const x = new Tensor(new Float32Array(784).map((_, i) => (i % 13) / 13), [1, 1, 28, 28]);
    a.forward(x);
    const before = b.forward(x).data.slice();
    const long = { data: new Float32Array(784 * 50).fill(7), shape: [1, 1, 28, 28] };
    const short = { data: new Float32Array(10), shape: [1, 1, 28, 28] };
    expect(err(() => a.forward(long as unknown as Tensor))).toBe('E_SHAPE: lenet5: input of shape [1, 1, 28, 28] needs 784 values, but its data has 39200');
    expect(err(() => a.forward(short as unknown as Tensor))).toMatch(/^E_SHAPE: lenet5: input of shape \[1, 1, 28, 28\] needs 784 values, but its data has 10$/);
    expect(Array.from(b.forward(x).data)).toEqual(Array.from(before));
    // a consistent plain object still works, and gives the Tensor's answer
    expect(Array.from(a.forward({ data: x.data, shape: [1, 1, 28, 28] } as unknown as Tensor).data)).toEqual(Array.from(a.forward(x).data));
  });

  it('not-a-tensor inputs say what to do', () => {
    const m = new LeNet5();
    expect(err(() => m.forward(new Float32Array(784) as unknown as Tensor))).toBe('E_ARGUMENT: lenet5: input must be a Tensor, got Float32Array; wrap it with wasmzoo.tensor(data, shape)');
    expect(err(() => m.forward([1, 2] as unknown as Tensor))).toMatch(/^E_ARGUMENT: lenet5: input must be a Tensor, got an array/);
    expect(err(() => m.forward({ data: ['a'], shape: [1] } as unknown as Tensor))).toMatch(/^E_ARGUMENT: lenet5: input\.data must be a Float32Array/);
  });

  it('every entry checks: trainStep, fit, evaluate, predict, recurrent forward/step, Embedding, VAE encode/decode', () => {
    const bad = { data: new Float32Array(3), shape: [2, 4] } as unknown as Tensor;
    const lin = new nn.Linear(4, 2);
    const y = new Tensor(new Float32Array(2), [2]);
    expect(err(() => lin.trainStep(bad, y))).toMatch(/^E_SHAPE: 0\.trainStep|^E_SHAPE: Linear\.trainStep/);
    expect(err(() => lin.evaluate(bad, y))).toMatch(/^E_SHAPE: .*evaluate: x of shape \[2, 4\] needs 8 values/);
    expect(err(() => lin.predict(bad))).toMatch(/^E_SHAPE: .*predict: x of shape/);
    expect(err(() => lin.fit(bad, y))).toMatch(/^E_SHAPE: .*fit: x of shape \[2, 4\] needs 8 values/);
    const gru = new nn.GRU(4, 3);
    const seqBad = { data: new Float32Array(5), shape: [2, 1, 4] } as unknown as Tensor;
    expect(err(() => gru.forward(seqBad))).toMatch(/^E_SHAPE: GRU: input of shape \[2, 1, 4\] needs 8 values/);
    expect(err(() => gru.step({ data: new Float32Array(3), shape: [1, 4] } as unknown as Tensor))).toMatch(/^E_SHAPE: GRU\.step: input/);
    expect(err(() => new nn.Embedding(5, 2).forward({ data: new Float32Array(1), shape: [3] } as unknown as Tensor))).toMatch(/^E_SHAPE: Embedding: ids of shape \[3\] needs 3 values/);
    const v = new VAE({ inputSize: 16, hidden: 8, latent: 2 });
    expect(err(() => v.encode({ data: new Float32Array(3), shape: [1, 16] } as unknown as Tensor))).toMatch(/^E_SHAPE: vae\.encode: input/);
    expect(err(() => v.decode({ data: new Float32Array(3), shape: [1, 2] } as unknown as Tensor))).toMatch(/^E_SHAPE: vae\.decode: z/);
  });
});
