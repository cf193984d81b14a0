/**
 * Loss kernels (assembly/loss.ts) in every variant against the f64 formulas of test/ref/loss.ts, the
 * references against central finite differences of their own loss values, and the edge cases: logits of
 * +-100 (and +-1000), ignored labels, in-place gradients, loss-only calls (gradient pointer 0), KL's
 * accumulating gradients.
 *
 * Tolerances:
 * - cross-entropy: per row one f32 exp sum (exp rel 2e-7, f32 adds of `cols` terms) and one f64 log:
 *   loss atol = rows * (1e-6 + cols*2^-24) * scale; gradient softmax terms rel 2e-7 + a few f32 roundings:
 *   atol 1e-6*scale.
 * - bce: exp(-|x|) rel 2e-7 gives log1p abs error <= 2e-7 per element: loss atol = n*3e-7*scale (plus f32
 *   rounding of the inputs' products, exact in f64 here), gradient sigmoid abs 3e-7*scale.
 * - mse: f32 difference exact-ish (one rounding), f64 sum: rtol 1e-6.
 * - kl: Mathf.exp (correctly rounded-ish f32), f64 sum: rtol 1e-6, atol 1e-6*n*scale.
 * - finite differences of the f64 references, h = 1e-4: O(h²) truncation of smooth functions: atol 1e-6.
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS, Scope, expectClose, variant } from './harness.js';
import { randomArray } from '../ref/rng.js';
import { bceWithLogitsRef, crossEntropyRef, klNormalRef, mseRef } from '../ref/loss.js';
import { finiteDiff } from '../ref/backward.js';
import type { Runtime } from '../../src/runtime/runtime.js';

function putI32(rt: Runtime, v: number[]): number {
  const p = rt.arena.alloc(Math.max(4, v.length * 4));
  new Int32Array(rt.arena.memory.buffer, p, v.length).set(v);
  return p;
}
const labelsFor = (rows: number, cols: number, seed: number) => Array.from({ length: rows }, (_, r) => (r * 7 + seed) % cols);
const all = (n: number) => [...Array(n).keys()];

describe('loss references vs finite differences', () => {
  it('cross-entropy, mse, bce, kl', () => {
    const [rows, cols, scale] = [3, 5, 0.25];
    const x = Float64Array.from(randomArray(rows * cols, 1, -3, 3));
    const lab = [1, 4, 0];
    const ce = crossEntropyRef(x, lab, rows, cols, scale);
    expectClose(finiteDiff((xx) => crossEntropyRef(xx, lab, rows, cols, scale).loss, x, all(x.length), 1e-4), ce.grad, 1e-6, 1e-6, 'ce');
    const t = randomArray(15, 2, 0, 1);
    expectClose(finiteDiff((xx) => mseRef(xx, t, scale).loss, x, all(15), 1e-4), mseRef(x, t, scale).grad, 1e-6, 1e-6, 'mse');
    expectClose(finiteDiff((xx) => bceWithLogitsRef(xx, t, scale).loss, x, all(15), 1e-4), bceWithLogitsRef(x, t, scale).grad, 1e-6, 1e-6, 'bce');
    const lv = Float64Array.from(randomArray(15, 3, -2, 2));
    const kl = klNormalRef(x, lv, scale);
    expectClose(finiteDiff((m) => klNormalRef(m, lv, scale).loss, x, all(15), 1e-4), kl.dmu, 1e-6, 1e-6, 'kl mu');
    expectClose(finiteDiff((l) => klNormalRef(x, l, scale).loss, lv, all(15), 1e-4), kl.dlogvar, 1e-6, 1e-6, 'kl logvar');
  });
  it('PyTorch values at a few points', () => {
    // F.cross_entropy(torch.tensor([[1., 2., 3.]]), torch.tensor([2])) = 0.40760596...
    expect(crossEntropyRef([1, 2, 3], [2], 1, 3, 1).loss).toBeCloseTo(0.4076059644, 9);
    // F.binary_cross_entropy_with_logits(torch.tensor([0.5, -1.]), torch.tensor([1., 0.]), reduction='sum') = 0.7873...
    expect(bceWithLogitsRef([0.5, -1], [1, 0], 1).loss).toBeCloseTo(Math.log1p(Math.exp(-0.5)) + Math.log1p(Math.exp(-1)), 12);
  });
});

describe.each(BACKENDS)('loss kernels [%s]', (backend) => {
  it('softmax_cross_entropy: widths with tails, extreme logits, ignored labels, in place, loss only', async () => {
    const rt = await variant(backend);
    for (const cols of [1, 2, 3, 4, 5, 8, 10, 17, 1000]) for (const rows of [1, 2, 5]) for (const spread of [3, 100, 1000]) {
      const s = new Scope(rt);
      const x = randomArray(rows * cols, rows * 31 + cols, -spread, spread);
      if (cols > 2 && spread === 100) { x[0] = 100; x[1] = -100; }
      const lab = labelsFor(rows, cols, spread);
      if (rows === 5) lab[3] = -100; // ignore_index
      const scale = 1 / rows;
      const pl = putI32(rt, lab);
      const px = s.put(x);
      const d = s.put(rows * cols);
      const loss = rt.k.softmax_cross_entropy(d, px, pl, rows, cols, scale);
      const ref = crossEntropyRef(x, lab, rows, cols, scale);
      const what = `ce ${rows}x${cols} spread ${spread}`;
      expect(Math.abs(loss - ref.loss), what).toBeLessThanOrEqual(rows * (1e-6 + cols * 2 ** -24) * scale + 1e-6 * Math.abs(ref.loss));
      expectClose(s.get(d, rows * cols), ref.grad, 1e-6 * scale, 0, `${what} grad`);
      expect(rt.k.softmax_cross_entropy(0, px, pl, rows, cols, scale)).toBe(loss);
      rt.k.softmax_cross_entropy(px, px, pl, rows, cols, scale); // in place
      expectClose(s.get(px, rows * cols), s.get(d, rows * cols), 0, 0, `${what} in place`);
      rt.arena.release(pl);
      s.free();
    }
  });

  it('mse_loss, bce_with_logits: tails, extreme logits, loss only', async () => {
    const rt = await variant(backend);
    for (const n of [1, 3, 4, 5, 9, 100]) {
      const s = new Scope(rt);
      const x = randomArray(n, n, -5, 5);
      if (n >= 4) { x[0] = 100; x[1] = -100; x[2] = 30; x[3] = -30; }
      const t = randomArray(n, n + 1, 0, 1);
      if (n >= 4) { t[0] = 0; t[1] = 1; }
      const scale = 1 / n;
      const px = s.put(x), pt = s.put(t), d = s.put(n);
      const m = mseRef(x, t, scale);
      const ml = rt.k.mse_loss(d, px, pt, n, scale);
      expect(Math.abs(ml - m.loss)).toBeLessThanOrEqual(1e-6 * m.loss);
      expectClose(s.get(d, n), m.grad, 1e-7, 1e-6, `mse ${n}`);
      expect(rt.k.mse_loss(0, px, pt, n, scale)).toBe(ml);
      const b = bceWithLogitsRef(x, t, scale);
      const bl = rt.k.bce_with_logits(d, px, pt, n, scale);
      expect(Math.abs(bl - b.loss), `bce loss ${n}`).toBeLessThanOrEqual(n * 3e-7 * scale + 1e-7 * Math.abs(b.loss));
      expectClose(s.get(d, n), b.grad, 3e-7 * scale, 1e-6, `bce ${n}`);
      expect(rt.k.bce_with_logits(0, px, pt, n, scale)).toBe(bl);
      s.free();
    }
  });

  it('kl_normal: accumulates into dmu/dlogvar, pointers 0 skip', async () => {
    const rt = await variant(backend);
    for (const n of [1, 5, 16, 33]) {
      const s = new Scope(rt);
      const mu = randomArray(n, n, -2, 2), lv = randomArray(n, n + 1, -4, 3);
      const dmu0 = randomArray(n, n + 2), dlv0 = randomArray(n, n + 3);
      const scale = 0.5;
      const pdm = s.put(dmu0), pdl = s.put(dlv0);
      const pm = s.put(mu), pl = s.put(lv);
      const loss = rt.k.kl_normal(pdm, pdl, pm, pl, n, scale);
      const r = klNormalRef(mu, lv, scale);
      expect(Math.abs(loss - r.loss)).toBeLessThanOrEqual(1e-6 * Math.abs(r.loss) + 1e-6 * n * scale);
      expectClose(s.get(pdm, n), r.dmu.map((v, i) => v + dmu0[i]), 1e-7, 1e-6, 'dmu');
      expectClose(s.get(pdl, n), r.dlogvar.map((v, i) => v + dlv0[i]), 1e-6, 1e-6, 'dlogvar');
      expect(rt.k.kl_normal(0, 0, pm, pl, n, scale)).toBe(loss);
      s.free();
    }
  });
});
