/**
 * Activation memory is bounded by the largest plan, not the sum over every input shape seen (issue 15,
 * item 4: LeNet-5 at batch sizes 1..200 held 502 MB of wasm memory where one batch-200 call needs 5 MB;
 * every RNN user with variable sequence lengths hit the same). Plans stay cached per shape; their
 * activations share the arena's one region (src/runtime/arena.ts ActivationRegion).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init, memoryStats, runtime } from '../../src/runtime/runtime.js';
import { Tensor } from '../../src/tensor.js';
import { LeNet5 } from '../../src/models/lenet.js';
import { SequenceLSTM } from '../../src/models/seq.js';
import type { Module } from '../../src/nn/module.js';

function used(): number {
  return runtime().arena.used;
}

/** Arena bytes a fresh model holds after running `shapes` (weights + plans), and the region at the end. */
function footprint(make: () => Module, shapes: number[][]): { bytes: number; region: number; model: Module } {
  const before = used();
  const m = make();
  for (const s of shapes) m.forward(new Tensor(new Float32Array(s.reduce((a, b) => a * b, 1)), s));
  return { bytes: used() - before, region: memoryStats()!.activationBytes, model: m };
}

describe('activation memory over many input shapes', () => {
  beforeAll(async () => {
    await init();
  });

  it('LeNet-5 at batch sizes 1..200 holds at most twice what batch 200 alone does', () => {
    const alone = footprint(() => new LeNet5(), [[200, 1, 28, 28]]);
    alone.model.dispose();
    const all = footprint(() => new LeNet5(), Array.from({ length: 200 }, (_, i) => [i + 1, 1, 28, 28]));
    expect(all.bytes).toBeLessThanOrEqual(2 * alone.bytes);
    expect(all.region).toBe(alone.region); // the region is the batch-200 plan's size
    all.model.dispose();
    expect(memoryStats()!.activationBytes).toBe(0); // freed with the last plan
  });

  it('a stacked LSTM at sequence lengths 1..100 holds at most twice what length 100 alone does', () => {
    const make = () => new SequenceLSTM({ inputSize: 16, hiddenSize: 32, outputSize: 4 });
    const alone = footprint(make, [[100, 2, 16]]);
    alone.model.dispose();
    const all = footprint(make, Array.from({ length: 100 }, (_, t) => [t + 1, 2, 16]));
    expect(all.bytes).toBeLessThanOrEqual(2 * alone.bytes);
    all.model.dispose();
  });

  it('stays flat when the same shapes come again (nothing allocated per call)', () => {
    const m = new LeNet5();
    const shapes = [1, 7, 32, 3].map((b) => [b, 1, 28, 28]);
    for (const s of shapes) m.forward(new Tensor(new Float32Array(s[0] * 784), s));
    const high = runtime().arena.highWater, u = used();
    for (let r = 0; r < 3; r++) for (const s of shapes) m.forward(new Tensor(new Float32Array(s[0] * 784), s));
    expect(runtime().arena.highWater).toBe(high);
    expect(used()).toBe(u);
    m.dispose();
  });
});

describe('a plan too large for the memory', () => {
  it('is refused with E_RUNTIME and leaves the models already planned working', async () => {
    await init();
    const { Upsample, Linear } = await import('../../src/nn/index.js');
    const small = new Linear(3, 2);
    const x = new Tensor(new Float32Array([1, 2, 3]), [1, 3]);
    const want = Array.from(small.forward(x).data);
    // 1 x 1 x 40 x 40 upsampled 1000x: 6.4 GB of activations, more than a wasm32 memory can hold
    const huge = new Upsample(1000);
    expect(() => huge.forward(new Tensor(new Float32Array(1600), [1, 1, 40, 40]))).toThrow(/cannot grow wasm memory/);
    expect(runtime().arena.activations.ptr).not.toBe(0);
    expect(Array.from(small.forward(x).data)).toEqual(want);
    small.dispose();
  });
});
