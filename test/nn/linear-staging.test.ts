/**
 * Linear packs big weights a chunk of output rows at a time (so raw and packed copies of a 400 MB
 * classifier are never in the arena together): results must equal a plain f64 dot product, across chunk
 * boundaries and with a ragged last panel.
 */
import { expect, it } from 'vitest';
import * as nn from '../../src/nn/index.js';
import { init } from '../../src/runtime/runtime.js';
import { tensor } from '../../src/tensor.js';
import { randomArray } from '../ref/rng.js';
import { expectClose } from '../kernels/harness.js';

it('Linear(300, 7003) packs in chunks and matches a reference; the staging block is small', async () => {
  const rt = await init();
  const K = 300, N = 7003;
  const m = new nn.Linear(K, N);
  const x = randomArray(2 * K, 5);
  const before = rt.arena.highWater;
  const y = m.forward(tensor(x, [2, K]));
  const w = m.weight.data, b = m.bias!.data;
  const want = new Float64Array(2 * N);
  for (let r = 0; r < 2; r++) for (let n = 0; n < N; n++) {
    let s = b[n];
    for (let k = 0; k < K; k++) s += x[r * K + k] * w[n * K + k];
    want[r * N + n] = s;
  }
  expectClose(y.data, want, 1e-5, 1e-4, 'chunked Linear');
  // packed weights (K x ceil(N/8)*8 floats) + one 4 MB staging chunk + small activations
  const packedBytes = K * Math.ceil(N / 8) * 8 * 4;
  expect(rt.arena.highWater - before).toBeLessThan(packedBytes + (4 << 20) + (1 << 20));
  m.dispose();
});
