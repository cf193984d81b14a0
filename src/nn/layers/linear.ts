/**
 * Linear as torch.nn.Linear (https://pytorch.org/docs/stable/generated/torch.nn.Linear.html):
 * y = x Wᵀ + b over the last dimension, W [out, in]. Wᵀ is packed once as the GEMM's B operand; a following
 * BatchNorm1d can be folded in and an activation fused.
 */
import { WasmzooError } from '../../errors.js';
import { checkOptions, optionKeys } from '../../options.js';
import { Act, epilogueFlags } from '../../runtime/activation.js';
import { GEMM_NR } from '../../runtime/kernels.js';
import { numel } from '../../tensor.js';
import { at, shapeError, type GraphBuilder, type Value } from '../../graph/graph.js';
import { PackedBlock, withStaged } from '../../graph/packed.js';
import { actGrad, isTraining, type TrainGraph } from '../../graph/tape.js';
import { uniform } from '../init.js';
import { Module, type Parameter } from '../module.js';
import type { BatchNorm1d } from './norm.js';

/** Floats staged at once while packing weights (4 MB). */
const STAGE_FLOATS = 1 << 20;

export interface LinearOptions {
  bias?: boolean;
}

const LINEAR_OPTION_KEYS = optionKeys<LinearOptions>({ bias: 1 });

export interface LinearFusion {
  bn?: BatchNorm1d;
  act?: Act;
}

export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Parameter;
  readonly bias?: Parameter;
  private packed = new PackedBlock();

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions = {}) {
    super();
    opts = checkOptions('Linear', opts, LINEAR_OPTION_KEYS);
    for (const [n, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new WasmzooError('E_ARGUMENT', `Linear: ${n} must be a positive integer, got ${v}`);
    }
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = this.param('weight', [outFeatures, inFeatures]);
    const bound = 1 / Math.sqrt(inFeatures);
    uniform(this.weight.data, bound);
    if (opts.bias ?? true) {
      this.bias = this.param('bias', [outFeatures]);
      uniform(this.bias.data, bound);
    }
  }

  build(g: GraphBuilder, x: Value, fuse: LinearFusion = {}): Value {
    const s = x.shape;
    // 4-D values are stored NHWC, so their last PyTorch dimension is not contiguous: flatten first.
    if (s.length < 1 || s.length > 3 || s[s.length - 1] !== this.inFeatures) {
      throw shapeError(this.name, `[..., ${this.inFeatures}] with 1 to 3 dimensions`, s);
    }
    if (isTraining(g)) {
      const y = linearTrain(g, this, x, fuse.bn ? Act.None : fuse.act ?? Act.None);
      return fuse.bn ? fuse.bn.build(g, y, fuse.act ?? Act.None) : y;
    }
    const rows = numel(s) / this.inFeatures;
    const K = this.inFeatures;
    const N = this.outFeatures;
    const rt = g.rt;
    const k = rt.k;
    const key = `${this.weight.version},${this.bias?.version},${fuse.bn?.versionKey() ?? '-'}`;
    const packedFloats = k.gemm_packed_b_size(K, N);
    const pb = this.packed.ensure(rt, key, (packedFloats + N) * 4, (ptr) => {
      let weight = this.weight.data;
      let bias = this.bias?.data;
      if (fuse.bn) ({ weight, bias } = fuse.bn.foldInto(weight, bias));
      // B = Wᵀ (K x N): element (k, n) is W[n*K + k], so b_rs = 1, b_cs = K.
      // Stage W a chunk of output rows at a time (whole 8-column panels): a VGG classifier's 411 MB weight
      // would otherwise sit in the arena twice (raw and packed) and set the memory high-water mark.
      const rows = Math.max(GEMM_NR, Math.floor(STAGE_FLOATS / K / GEMM_NR) * GEMM_NR);
      for (let n0 = 0; n0 < N; n0 += rows) {
        const nc = Math.min(rows, N - n0);
        withStaged(rt, weight.subarray(n0 * K, (n0 + nc) * K), (raw) => k.gemm_pack_b(ptr + n0 * K * 4, raw, K, nc, 1, K));
      }
      rt.arena.write(ptr + packedFloats * 4, bias ?? new Float32Array(N));
    });
    const biasPtr = this.bias || fuse.bn ? pb + packedFloats * 4 : 0;
    const y = g.value([...s.slice(0, -1), N]);
    const act = fuse.act ?? Act.None;
    const flags = epilogueFlags(act);
    g.op(this.name, [x], (p) => k.gemm_packed(at(p, y), at(p, x), pb, biasPtr, rows, N, K, K, 1, N, flags, act.alpha));
    return y;
  }

  override releaseWeights(): void {
    this.packed.release();
    super.releaseWeights();
  }
}

/** Training half: y = act(x Wᵀ + b) over rows of x from the raw weights; backward dX = dZ W, dW = dZᵀ X, db = Σ rows dZ. */
function linearTrain(g: TrainGraph, m: Linear, x: Value, act: Act): Value {
  const k = g.rt.k;
  const K = m.inFeatures, N = m.outFeatures, M = numel(x.shape) / K;
  const w = g.paramData(m.weight);
  const b = m.bias ? g.paramData(m.bias) : 0;
  const y = g.value([...x.shape.slice(0, -1), N]);
  g.scratch(k.gemm_packed_b_size(K, N) * 4);
  const flags = epilogueFlags(act);
  // B = Wᵀ (K x N): element (k, n) at W[n*K + k].
  g.op(m.name, [x], (p, s) => k.gemm(at(p, y), at(p, x), w, b, M, N, K, K, 1, 1, K, N, flags, s, act.alpha));
  g.onBackward(() => {
    const dy = g.grad(y);
    if (!dy) return;
    const dz = actGrad(g, m.name, y, dy, act);
    if (g.needsGrad(x)) {
      const dx = g.value(x.shape);
      g.scratch(k.gemm_packed_b_size(N, K) * 4);
      // dX [M,K] = dZ [M,N] · W [N,K]
      g.op(`${m.name}.backward_data`, [dz], (p, s) => k.gemm(at(p, dx), at(p, dz), w, 0, M, K, N, N, 1, K, 1, K, 0, s, 0));
      g.addGrad(x, dx);
    }
    const gw = g.paramGrad(m.weight);
    g.scratch(k.gemm_packed_b_size(M, K) * 4);
    // dW [N,K] = dZᵀ [N,M] · X [M,K]
    g.op(`${m.name}.backward_weight`, [dz, x], (p, s) => k.gemm(gw.ptr, at(p, dz), at(p, x), 0, N, K, M, 1, N, K, 1, K, gw.flags, s, 0));
    if (m.bias) {
      const gb = g.paramGrad(m.bias);
      g.op(`${m.name}.backward_bias`, [dz], (p) => k.bias_grad(gb.ptr, at(p, dz), M, N, gb.flags));
    }
  });
  return y;
}
