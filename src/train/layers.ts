/**
 * Training-mode build of each layer: the forward ops as at inference but without the folds that training
 * forbids (a batch norm normalises with batch statistics, so it cannot be folded into the conv), reading
 * raw parameters from the ParamStore, plus the backward ops on the tape. Layers call these from build()
 * when the graph is a TrainGraph; inference never loads this code path's kernels.
 *
 * Shapes follow the forward layers: images NHWC inside, [rows, features] for dense values.
 */
import { WasmzooError } from '../errors.js';
import { Act, epilogueFlags } from '../runtime/kernels.js';
import { at, type Value } from '../nn/graph.js';
import { numel } from '../tensor.js';
import type { Pair } from '../shape.js';
import type { TrainGraph } from './graph.js';
import type { Parameter } from '../nn/module.js';

/** dz = dy * act'(y) for an activation fused into the layer that produced y (identity: dz = dy). */
export function actGrad(g: TrainGraph, name: string, y: Value, dy: Value, act: Act): Value {
  if (act === Act.None) return dy;
  const dz = g.value(y.shape);
  const n = numel(y.shape);
  const k = g.rt.k;
  g.op(`${name}.act_backward`, [y, dy], (p) => k.act_backward(at(p, dz), at(p, dy), at(p, y), n, act));
  return dz;
}

/** Standalone activation (ReLU, Tanh, Sigmoid modules). */
export function trainActivation(g: TrainGraph, name: string, x: Value, act: Act): Value {
  const k = g.rt.k;
  const y = g.value(x.shape);
  const n = numel(x.shape);
  const f = act === Act.Relu ? k.relu : act === Act.Tanh ? k.tanh : k.sigmoid;
  g.op(name, [x], (p) => f(at(p, y), at(p, x), n));
  g.onBackward(() => {
    const dy = g.grad(y);
    if (!dy || !g.needsGrad(x)) return;
    g.addGrad(x, actGrad(g, name, y, dy, act));
  });
  return y;
}

export interface DenseParams {
  name: string;
  weight: Parameter; // [N, K]
  bias?: Parameter; // [N]
  inFeatures: number;
  outFeatures: number;
}

/** y = act(x Wᵀ + b) over rows of x; backward dX = dZ W, dW = dZᵀ X, db = Σ rows dZ. */
export function trainLinear(g: TrainGraph, m: DenseParams, x: Value, act: Act): Value {
  const k = g.rt.k;
  const K = m.inFeatures, N = m.outFeatures, M = numel(x.shape) / K;
  const w = g.paramData(m.weight);
  const b = m.bias ? g.paramData(m.bias) : 0;
  const y = g.value([...x.shape.slice(0, -1), N]);
  g.scratch(k.gemm_packed_b_size(K, N) * 4);
  const flags = epilogueFlags(act);
  // B = Wᵀ (K x N): element (k, n) at W[n*K + k].
  g.op(m.name, [x], (p, s) => k.gemm(at(p, y), at(p, x), w, b, M, N, K, K, 1, 1, K, N, flags, s));
  g.onBackward(() => {
    const dy = g.grad(y);
    if (!dy) return;
    const dz = actGrad(g, m.name, y, dy, act);
    if (g.needsGrad(x)) {
      const dx = g.value(x.shape);
      g.scratch(k.gemm_packed_b_size(N, K) * 4);
      // dX [M,K] = dZ [M,N] · W [N,K]
      g.op(`${m.name}.backward_data`, [dz], (p, s) => k.gemm(at(p, dx), at(p, dz), w, 0, M, K, N, N, 1, K, 1, K, 0, s));
      g.addGrad(x, dx);
    }
    const gw = g.paramGrad(m.weight);
    g.scratch(k.gemm_packed_b_size(M, K) * 4);
    // dW [N,K] = dZᵀ [N,M] · X [M,K]
    g.op(`${m.name}.backward_weight`, [dz, x], (p, s) => k.gemm(gw.ptr, at(p, dz), at(p, x), 0, N, K, M, 1, N, K, 1, K, gw.flags, s));
    if (m.bias) {
      const gb = g.paramGrad(m.bias);
      g.op(`${m.name}.backward_bias`, [dz], (p) => k.bias_grad(gb.ptr, at(p, dz), M, N, gb.flags));
    }
  });
  return y;
}

export interface ConvParams {
  name: string;
  weight: Parameter; // [OC, C/groups, KH, KW]
  bias?: Parameter;
  inChannels: number;
  outChannels: number;
  kernelSize: Pair;
  stride: Pair;
  padding: Pair;
  dilation: Pair;
  groups: number;
}

/** Conv2d forward from raw weights (packed each step: training changes them), backward data/weight/bias. */
export function trainConv2d(g: TrainGraph, m: ConvParams, x: Value, act: Act, padding: Pair): Value {
  const k = g.rt.k;
  const [n, c, h, w] = x.shape;
  const oc = m.outChannels, groups = m.groups, icg = c / groups;
  const [kh, kw] = m.kernelSize, [sh, sw] = m.stride, [ph, pw] = padding, [dh, dw] = m.dilation;
  const oh = Math.floor((h + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  const wRaw = g.paramData(m.weight);
  const b = m.bias ? g.paramData(m.bias) : 0;
  const packed = g.value([k.conv2d_packed_size(oc, icg, kh, kw, groups)]);
  g.op(`${m.name}.pack`, [], (p) => k.conv2d_pack_weights(at(p, packed), wRaw, oc, icg, kh, kw, groups));
  const y = g.value([n, oc, oh, ow]);
  g.scratch(k.conv2d_scratch_size(n, h, w, c, oh, ow, oc, kh, kw, sh, sw, ph, pw, dh, dw, groups));
  const flags = epilogueFlags(act);
  g.op(m.name, [x, packed], (p, s) =>
    k.conv2d_nhwc(at(p, y), at(p, x), at(p, packed), b, n, h, w, c, oh, ow, oc, kh, kw, sh, sw, ph, pw, dh, dw, groups, oc, flags, s));
  g.onBackward(() => {
    const dy = g.grad(y);
    if (!dy) return;
    const dz = actGrad(g, m.name, y, dy, act);
    g.scratch(k.conv2d_backward_scratch_size(n, h, w, c, oh, ow, oc, kh, kw, sh, sw, ph, pw, dh, dw, groups));
    if (g.needsGrad(x)) {
      const dx = g.value(x.shape);
      g.op(`${m.name}.backward_data`, [dz], (p, s) =>
        k.conv2d_backward_data(at(p, dx), at(p, dz), wRaw, n, h, w, c, oh, ow, oc, kh, kw, sh, sw, ph, pw, dh, dw, groups, s));
      g.addGrad(x, dx);
    }
    const gw = g.paramGrad(m.weight);
    g.op(`${m.name}.backward_weight`, [x, dz], (p, s) =>
      k.conv2d_backward_weight(gw.ptr, at(p, x), at(p, dz), n, h, w, c, oh, ow, oc, kh, kw, sh, sw, ph, pw, dh, dw, groups, gw.flags, s));
    if (m.bias) {
      const gb = g.paramGrad(m.bias);
      g.op(`${m.name}.backward_bias`, [dz], (p) => k.bias_grad(gb.ptr, at(p, dz), n * oh * ow, oc, gb.flags));
    }
  });
  return y;
}

type PoolKind = 'max' | 'avg';
export interface PoolParams {
  name: string;
  kernelSize: Pair;
  stride: Pair;
  padding: Pair;
  dilation: Pair;
  countIncludePad?: boolean;
  divisorOverride?: number;
}

/**
 * The common backward of a layer with one input and no parameters: when y received a gradient and x needs
 * one, record `fill(p, dx, dy)` writing dx (a new value) from dy and the values in `reads`.
 */
function inputGrad(g: TrainGraph, name: string, x: Value, y: Value, reads: Value[], fill: (p: Int32Array, dx: Value, dy: Value) => void): void {
  g.onBackward(() => {
    const dy = g.grad(y);
    if (!dy || !g.needsGrad(x)) return;
    const dx = g.value(x.shape);
    g.op(`${name}.backward`, [dy, ...reads], (p) => fill(p, dx, dy));
    g.addGrad(x, dx);
  });
}

/** Record the backward of a pooling layer whose forward (y from x) was recorded by the layer itself. */
export function poolBackward(g: TrainGraph, kind: PoolKind, m: PoolParams, x: Value, y: Value): void {
  const k = g.rt.k;
  const [n, c, h, w] = x.shape;
  const [oh, ow] = [y.shape[2], y.shape[3]];
  const [kh, kw] = m.kernelSize, [sh, sw] = m.stride, [ph, pw] = m.padding, [dh, dw] = m.dilation;
  if (kind === 'max') {
    inputGrad(g, m.name, x, y, [x], (p, dx, dy) => k.maxpool2d_backward_nhwc(at(p, dx), at(p, dy), at(p, x), n, h, w, c, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw));
  } else {
    const cip = m.countIncludePad ? 1 : 0, div = m.divisorOverride ?? 0;
    inputGrad(g, m.name, x, y, [], (p, dx, dy) => k.avgpool2d_backward_nhwc(at(p, dx), at(p, dy), n, h, w, c, oh, ow, kh, kw, sh, sw, ph, pw, cip, div));
  }
}

export function adaptiveAvgBackward(g: TrainGraph, name: string, x: Value, y: Value): void {
  const k = g.rt.k;
  const [n, c, h, w] = x.shape;
  inputGrad(g, name, x, y, [], (p, dx, dy) => k.adaptive_avgpool2d_backward_nhwc(at(p, dx), at(p, dy), n, h, w, c, y.shape[2], y.shape[3]));
}

/** Backward of a layout transpose recorded by Flatten: the inverse transpose of the gradient. */
export function flattenBackward(g: TrainGraph, name: string, x: Value, y: Value): void {
  const k = g.rt.k;
  const [n, c, h, w] = x.shape;
  inputGrad(g, name, x, y, [], (p, dx, dy) => k.nchw_to_nhwc(at(p, dx), at(p, dy), n, c, h, w));
}

/**
 * A view (same buffer, offset and size, new shape): nothing to record. NOTE: gradients are keyed by
 * (buffer, offset, size), so y's gradient IS x's gradient entry already; adding dy to it again (as this
 * once did) doubled it, e.g. Flatten of a 1-channel image or of [N, C, 1, 1].
 */
export function viewBackward(_g: TrainGraph, _x: Value, _y: Value): void {}

/** Inverted dropout with a mask drawn per step from (seed, step, layer): y = x * mask, dx = dy * mask. */
export function trainDropout(g: TrainGraph, name: string, x: Value, prob: number): Value {
  if (prob === 0) return x;
  const k = g.rt.k;
  const n = numel(x.shape);
  const id = g.nextDropoutId();
  const mask = g.value(x.shape);
  const y = g.value(x.shape);
  const st = g.state;
  g.op(`${name}.mask`, [], (p) => k.dropout_mask(at(p, mask), n, prob, (st.seed ^ Math.imul(id + 1, 0x9e3779b1)) | 0, st.step | 0));
  g.op(name, [x, mask], (p) => k.mul(at(p, y), at(p, x), at(p, mask), n));
  inputGrad(g, name, x, y, [mask], (p, dx, dy) => k.mul(at(p, dx), at(p, dy), at(p, mask), n));
  return y;
}

export interface BatchNormParams {
  name: string;
  numFeatures: number;
  eps: number;
  momentum: number;
  weight?: Parameter;
  bias?: Parameter;
  runningMean: Parameter;
  runningVar: Parameter;
  numBatchesTracked: Parameter;
}

/**
 * Batch norm with batch statistics (biased variance to normalise, unbiased for running_var, momentum as
 * PyTorch: running = (1 - momentum) * running + momentum * batch). Running statistics are updated in the
 * Parameters' JS arrays (C floats), read from the arena by a small op.
 */
export function trainBatchNorm(g: TrainGraph, m: BatchNormParams, x: Value, pixels: number, act: Act): Value {
  const k = g.rt.k;
  const arena = g.rt.arena;
  const C = m.numFeatures;
  const stats = g.value([4 * C]); // mean, var, scale, shift
  const y = g.value(x.shape);
  const gamma = m.weight ? g.paramData(m.weight) : 0;
  const beta = m.bias ? g.paramData(m.bias) : 0;
  const ones = new Float32Array(C).fill(1);
  const rm = m.runningMean.data, rv = m.runningVar.data;
  g.op(`${m.name}.stats`, [x], (p) => {
    const s = at(p, stats);
    k.batchnorm_stats(s, s + 4 * C, at(p, x), pixels, C);
    const f = arena.f32;
    const mean = s >>> 2, vr = mean + C, sc = vr + C, sh = sc + C;
    const gm = gamma ? gamma >>> 2 : -1, bt = beta ? beta >>> 2 : -1;
    const unbias = pixels > 1 ? pixels / (pixels - 1) : 1;
    for (let i = 0; i < C; i++) {
      const inv = 1 / Math.sqrt(f[vr + i] + m.eps);
      const gi = gm >= 0 ? f[gm + i] : ones[i];
      f[sc + i] = gi * inv;
      f[sh + i] = (bt >= 0 ? f[bt + i] : 0) - f[mean + i] * gi * inv;
      rm[i] = (1 - m.momentum) * rm[i] + m.momentum * f[mean + i];
      rv[i] = (1 - m.momentum) * rv[i] + m.momentum * f[vr + i] * unbias;
    }
    m.numBatchesTracked.data[0]++;
  });
  g.op(m.name, [x, stats], (p) => {
    const s = at(p, stats);
    k.scale_shift(at(p, y), at(p, x), s + 8 * C, s + 12 * C, pixels, C, act);
  });
  g.onBackward(() => {
    const dy = g.grad(y);
    if (!dy) return;
    const dz = actGrad(g, m.name, y, dy, act);
    const dx = g.value(x.shape);
    const gg = m.weight ? g.paramGrad(m.weight) : undefined;
    const gb = m.bias ? g.paramGrad(m.bias) : undefined;
    const scratch = g.value([2 * C]); // dgamma/dbeta when not affine
    const flags = gg?.flags ?? 0;
    g.op(`${m.name}.backward`, [dz, x, stats], (p) => {
      const s = at(p, stats);
      const sc = at(p, scratch);
      k.batchnorm_backward(at(p, dx), gg ? gg.ptr : sc, gb ? gb.ptr : sc + 4 * C, at(p, dz), at(p, x), s, s + 4 * C, gamma, m.eps, pixels, C, flags);
    });
    if (g.needsGrad(x)) g.addGrad(x, dx);
  });
  return y;
}

/** Residual add backward: y = act(a + b) gives both a and b the gradient dz. */
export function addBackward(g: TrainGraph, name: string, a: Value, b: Value, y: Value, act: Act): void {
  g.onBackward(() => {
    const dy = g.grad(y);
    if (!dy) return;
    const dz = actGrad(g, name, y, dy, act);
    g.addGrad(a, dz);
    // b gets its own copy: grad(a) may later be accumulated into in place, which must not change grad(b).
    if (g.needsGrad(b)) {
      const k = g.rt.k;
      const n = numel(y.shape);
      const copy = g.value(y.shape);
      g.op(`${name}.grad_copy`, [dz], (p) => k.copy_channels(at(p, copy), at(p, dz), 1, n, n, n));
      g.addGrad(b, copy);
    }
  });
}

export function unsupported(name: string, what: string): never {
  throw new WasmzooError('E_ARGUMENT', `${name}: ${what} is not supported in training yet`);
}

