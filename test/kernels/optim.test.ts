/**
 * Optimizer kernels (assembly/optim.ts) in every variant against the TS transcriptions of PyTorch's update
 * rules (test/ref/optim.ts) over several steps and sizes (vector tails, >= 2 iterations), and both against
 * trajectories recorded from torch.optim itself (test/golden/optim/torch_optim.json, written by
 * test/golden/optim/gen_optim_golden.py with Debian's torch 1.13).
 *
 * Tolerances: the kernels work in f32 like torch (each op rounds to 2^-24 relative), the references in f64;
 * over 5 steps the parameters move by ~lr per step and stay O(1): atol 2e-6, rtol 2e-6 on parameters and
 * state. Adam's update m/denom is O(1)*lr whatever the gradient scale, so its f32 error is ~lr*1e-6: covered.
 * sum_squares: f32 blocks of 64 squares then f64: rtol 1e-6. scale_inplace: exact (one f32 multiply).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BACKENDS, Scope, expectClose, variant } from './harness.js';
import { randomArray, rng } from '../ref/rng.js';
import { adamStepRef, sgdStepRef, type AdamOpts, type SgdOpts } from '../ref/optim.js';
import type { Runtime } from '../../src/runtime/runtime.js';

const golden = JSON.parse(readFileSync('test/golden/optim/torch_optim.json', 'utf8'));

function sgdOpts(o: any): SgdOpts {
  return { lr: o.lr, momentum: o.momentum ?? 0, dampening: o.dampening ?? 0, weightDecay: o.weight_decay ?? 0, nesterov: !!o.nesterov };
}
function adamOpts(kind: string, o: any): AdamOpts {
  const [beta1, beta2] = o.betas ?? [0.9, 0.999];
  return { lr: o.lr, beta1, beta2, eps: o.eps ?? 1e-8, weightDecay: o.weight_decay ?? (kind === 'adamw' ? 1e-2 : 0), adamw: kind === 'adamw' };
}

/** Runs `steps` kernel steps from p0 with the given gradients; returns the parameter after each step and the state. */
function runKernel(rt: Runtime, kind: 'sgd' | 'adam', o: SgdOpts | AdamOpts, p0: ArrayLike<number>, grads: ArrayLike<number>[]) {
  const s = new Scope(rt);
  const n = p0.length;
  const p = s.put(p0), g = s.put(n), a = s.put(n), b = s.put(n);
  const traj: Float32Array[] = [];
  grads.forEach((gr, i) => {
    rt.arena.write(g, gr);
    if (kind === 'sgd') {
      const so = o as SgdOpts;
      rt.k.sgd_step(p, g, so.momentum !== 0 ? a : 0, n, so.lr, so.momentum, so.dampening, so.weightDecay, so.nesterov ? 1 : 0, i === 0 ? 1 : 0);
    } else {
      const ao = o as AdamOpts;
      rt.k.adam_step(p, g, a, b, n, ao.lr, ao.beta1, ao.beta2, ao.eps, ao.weightDecay, ao.adamw ? 1 : 0, i + 1);
    }
    traj.push(s.get(p, n));
    expectClose(s.get(g, n), gr, 0, 0, 'gradient must not change');
  });
  const state = { a: s.get(a, n), b: s.get(b, n) };
  s.free();
  return { traj, state };
}

function runRef(kind: 'sgd' | 'adam', o: SgdOpts | AdamOpts, p0: ArrayLike<number>, grads: ArrayLike<number>[]) {
  const p = Float64Array.from(p0), a = new Float64Array(p.length), b = new Float64Array(p.length);
  const traj: Float64Array[] = [];
  grads.forEach((g, i) => {
    if (kind === 'sgd') sgdStepRef(p, g, a, o as SgdOpts, i === 0);
    else adamStepRef(p, g, a, b, o as AdamOpts, i + 1);
    traj.push(Float64Array.from(p));
  });
  return { traj, state: { a, b } };
}

describe('optimizer references vs torch.optim trajectories', () => {
  it('has the expected header', () => {
    expect(golden.magic).toBe('wasmzoo-optim-golden');
    expect(golden.version).toBe(1);
  });
  const cases: [string, any][] = golden.cases.map((c: any, i: number) => [`${i} ${c.kind} ${JSON.stringify(c.opts)}`, c]);
  it.each(cases)('%s', (_n: string, c: any) => {
    const kind = c.kind === 'sgd' ? 'sgd' : 'adam';
    const o = kind === 'sgd' ? sgdOpts(c.opts) : adamOpts(c.kind, c.opts);
    const r = runRef(kind, o, golden.p0, golden.grads);
    r.traj.forEach((p, i) => expectClose(p, c.params[i], 2e-6, 2e-6, `step ${i + 1}`));
    if (c.state.buf) expectClose(r.state.a, c.state.buf, 2e-6, 2e-6, 'momentum buffer');
    if (c.state.m) { expectClose(r.state.a, c.state.m, 2e-6, 2e-6, 'exp_avg'); expectClose(r.state.b, c.state.v, 1e-8, 2e-6, 'exp_avg_sq'); }
  });
});

describe.each(BACKENDS)('optimizer kernels [%s]', (backend) => {
  it('match the torch.optim trajectories', async () => {
    const rt = await variant(backend);
    for (const c of golden.cases) {
      const kind = c.kind === 'sgd' ? 'sgd' : 'adam';
      const o = kind === 'sgd' ? sgdOpts(c.opts) : adamOpts(c.kind, c.opts);
      const k = runKernel(rt, kind, o, golden.p0, golden.grads);
      const what = `${c.kind} ${JSON.stringify(c.opts)}`;
      k.traj.forEach((p, i) => expectClose(p, c.params[i], 2e-6, 2e-6, `${what} step ${i + 1}`));
      if (c.state.buf) expectClose(k.state.a, c.state.buf, 2e-6, 2e-6, `${what} momentum buffer`);
      if (c.state.m) { expectClose(k.state.a, c.state.m, 2e-6, 2e-6, `${what} exp_avg`); expectClose(k.state.b, c.state.v, 1e-8, 2e-6, `${what} exp_avg_sq`); }
    }
  });

  it('match the references over 5 steps: sizes with tails, every option', async () => {
    const rt = await variant(backend);
    const r = rng(5);
    for (const n of [1, 3, 4, 5, 8, 17, 100]) {
      const p0 = randomArray(n, n);
      const grads = [0, 1, 2, 3, 4].map((i) => randomArray(n, 100 * n + i));
      const sgds: SgdOpts[] = [
        { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
        { lr: 0.1, momentum: 0.9, dampening: 0.2, weightDecay: 0.05, nesterov: false },
        { lr: 0.05, momentum: 0.8, dampening: 0, weightDecay: 0.01, nesterov: true },
      ];
      for (const o of sgds) {
        const k = runKernel(rt, 'sgd', o, p0, grads), e = runRef('sgd', o, p0, grads);
        k.traj.forEach((p, i) => expectClose(p, e.traj[i], 2e-6, 2e-6, `sgd n ${n} ${JSON.stringify(o)} step ${i + 1}`));
        if (o.momentum) expectClose(k.state.a, e.state.a, 2e-6, 2e-6, 'buf');
      }
      for (const adamw of [false, true]) for (const wd of [0, 0.1]) {
        const o: AdamOpts = { lr: 1e-2 * (1 + r()), beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: wd, adamw };
        const k = runKernel(rt, 'adam', o, p0, grads), e = runRef('adam', o, p0, grads);
        k.traj.forEach((p, i) => expectClose(p, e.traj[i], 2e-6, 2e-6, `adam n ${n} ${JSON.stringify(o)} step ${i + 1}`));
        expectClose(k.state.a, e.state.a, 2e-6, 2e-6, 'm');
        expectClose(k.state.b, e.state.b, 1e-8, 2e-6, 'v');
      }
    }
  });

  it('sum_squares and scale_inplace', async () => {
    const rt = await variant(backend);
    for (const n of [0, 1, 3, 4, 5, 63, 64, 65, 1000, 4099]) {
      const s = new Scope(rt);
      const x = randomArray(n, n + 3, -2, 2);
      const p = s.put(x);
      let ref = 0;
      for (const v of x) ref += v * v;
      const got = rt.k.sum_squares(p, n);
      expect(Math.abs(got - ref)).toBeLessThanOrEqual(1e-6 * ref + 1e-12);
      rt.k.scale_inplace(p, n, 0.37);
      expectClose(s.get(p, n), x.map((v) => Math.fround(v * Math.fround(0.37))), 0, 0, `scale ${n}`);
      s.free();
    }
  });
});
