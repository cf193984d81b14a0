/**
 * BatchNorm1d / BatchNorm2d at inference (running statistics), and LocalResponseNorm.
 * https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html
 * https://pytorch.org/docs/stable/generated/torch.nn.LocalResponseNorm.html
 *
 * At inference a batch norm is y = x * scale + shift per channel, with scale = gamma / sqrt(var + eps) and
 * shift = beta - mean * scale. Sequential folds it into a preceding Conv2d or Linear (see foldInto), so it
 * usually costs nothing; standing alone it runs the scale_shift kernel.
 */
import { wordIndex } from '../../runtime/arena.js';
import { WasmzooError } from '../../errors.js';
import { checkOptions, optionKeys } from '../../options.js';
import { shapeStr } from '../../tensor.js';
import { Act } from '../../runtime/activation.js';
import { at, shapeError, type GraphBuilder, type Value } from '../../graph/graph.js';
import { PackedBlock } from '../../graph/packed.js';
import { actGrad, isTraining, unsupported, type TrainGraph } from '../../graph/tape.js';
import { Module, type Parameter } from '../module.js';

export interface BatchNormOptions {
  eps?: number;
  momentum?: number;
  affine?: boolean;
  trackRunningStats?: boolean;
}

const BATCH_NORM_OPTION_KEYS = optionKeys<BatchNormOptions>({ eps: 1, momentum: 1, affine: 1, trackRunningStats: 1 });

export abstract class BatchNorm extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number;
  readonly affine: boolean;
  readonly weight?: Parameter;
  readonly bias?: Parameter;
  readonly runningMean: Parameter;
  readonly runningVar: Parameter;
  readonly numBatchesTracked: Parameter;
  private packed = new PackedBlock();

  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super();
    opts = checkOptions(this.constructor.name, opts, BATCH_NORM_OPTION_KEYS);
    if (!Number.isInteger(numFeatures) || numFeatures <= 0) {
      throw new WasmzooError('E_ARGUMENT', `${this.constructor.name}: numFeatures must be a positive integer, got ${numFeatures}`);
    }
    if (opts.trackRunningStats === false) {
      throw new WasmzooError('E_ARGUMENT', `${this.constructor.name}: trackRunningStats=false is not supported (inference needs running statistics)`);
    }
    this.numFeatures = numFeatures;
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    this.affine = opts.affine ?? true;
    if (this.affine) {
      this.weight = this.param('weight', [numFeatures]);
      this.weight.data.fill(1);
      this.bias = this.param('bias', [numFeatures]);
    }
    this.runningMean = this.buffer('running_mean', [numFeatures]);
    this.runningVar = this.buffer('running_var', [numFeatures]);
    this.runningVar.data.fill(1);
    this.numBatchesTracked = this.buffer('num_batches_tracked', [], true);
  }

  /** Per-channel scale and shift of the inference transform. */
  scaleShift(): { scale: Float32Array; shift: Float32Array } {
    const n = this.numFeatures;
    const scale = new Float32Array(n);
    const shift = new Float32Array(n);
    for (let c = 0; c < n; c++) {
      const g = this.weight ? this.weight.data[c] : 1;
      const b = this.bias ? this.bias.data[c] : 0;
      const s = g / Math.sqrt(this.runningVar.data[c] + this.eps);
      scale[c] = s;
      shift[c] = b - this.runningMean.data[c] * s;
    }
    return { scale, shift };
  }

  /** A version key of everything scaleShift depends on. */
  versionKey(): string {
    return [this.weight?.version, this.bias?.version, this.runningMean.version, this.runningVar.version].join(',');
  }

  /** Fold into a layer whose output channels are rows of `weight` ([OC, ...]) with optional bias [OC]. */
  foldInto(weight: Float32Array, bias: Float32Array | undefined): { weight: Float32Array; bias: Float32Array } {
    const { scale, shift } = this.scaleShift();
    const oc = this.numFeatures;
    const per = weight.length / oc;
    const w = new Float32Array(weight.length);
    const b = new Float32Array(oc);
    for (let o = 0; o < oc; o++) {
      for (let i = 0; i < per; i++) w[o * per + i] = weight[o * per + i] * scale[o];
      b[o] = (bias ? bias[o] : 0) * scale[o] + shift[o];
    }
    return { weight: w, bias: b };
  }

  protected buildScaleShift(g: GraphBuilder, x: Value, pixels: number, act: Act = Act.None): Value {
    if (isTraining(g)) return batchNormTrain(g, this, x, pixels, act);
    const rt = g.rt;
    const c = this.numFeatures;
    const ptr = this.packed.ensure(rt, this.versionKey(), 8 * c, (p) => {
      const { scale, shift } = this.scaleShift();
      rt.arena.write(p, scale);
      rt.arena.write(p + 4 * c, shift);
    });
    const y = g.value(x.shape);
    g.op(this.name, [x], (p) => rt.k.scale_shift(at(p, y), at(p, x), ptr, ptr + 4 * c, pixels, c, act.code, act.alpha));
    return y;
  }

  override releaseWeights(): void {
    this.packed.release();
    super.releaseWeights();
  }
}

export class BatchNorm2d extends BatchNorm {
  build(g: GraphBuilder, x: Value, act: Act = Act.None): Value {
    const s = x.shape;
    if (s.length !== 4 || s[1] !== this.numFeatures) throw shapeError(this.name, `[N, ${this.numFeatures}, H, W]`, s);
    return this.buildScaleShift(g, x, s[0] * s[2] * s[3], act);
  }
}

export class BatchNorm1d extends BatchNorm {
  build(g: GraphBuilder, x: Value, act: Act = Act.None): Value {
    const s = x.shape;
    if (s.length !== 2 || s[1] !== this.numFeatures) {
      throw shapeError(this.name, `[N, ${this.numFeatures}] (the [N, C, L] form is not supported yet)`, s);
    }
    return this.buildScaleShift(g, x, s[0], act);
  }
}

export interface LocalResponseNormOptions {
  alpha?: number;
  beta?: number;
  k?: number;
}

const LRN_OPTION_KEYS = optionKeys<LocalResponseNormOptions>({ alpha: 1, beta: 1, k: 1 });

/** Across-channel LRN as torch.nn.LocalResponseNorm(size, alpha=1e-4, beta=0.75, k=1). */
export class LocalResponseNorm extends Module {
  readonly size: number;
  readonly alpha: number;
  readonly beta: number;
  readonly k: number;
  constructor(size: number, opts: LocalResponseNormOptions = {}) {
    super();
    opts = checkOptions('LocalResponseNorm', opts, LRN_OPTION_KEYS);
    if (!Number.isInteger(size) || size <= 0) throw new WasmzooError('E_ARGUMENT', `LocalResponseNorm: size must be a positive integer, got ${size}`);
    this.size = size;
    this.alpha = opts.alpha ?? 1e-4;
    this.beta = opts.beta ?? 0.75;
    this.k = opts.k ?? 1;
  }
  build(g: GraphBuilder, x: Value): Value {
    const s = x.shape;
    if (s.length !== 4) throw new WasmzooError('E_SHAPE', `${this.name}: expected a 4-D input [N, C, H, W], got ${shapeStr(s)}`);
    if (isTraining(g)) unsupported(this.name, 'LocalResponseNorm');
    const k = g.rt.k;
    const y = g.value(s);
    const pixels = s[0] * s[2] * s[3];
    g.op(this.name, [x], (p) => k.lrn_nhwc(at(p, y), at(p, x), pixels, s[1], this.size, this.alpha, this.beta, this.k));
    return y;
  }
}

/**
 * Training half: batch norm with batch statistics (biased variance to normalise, unbiased for running_var, momentum as
 * PyTorch: running = (1 - momentum) * running + momentum * batch). Running statistics are updated in the
 * Parameters' JS arrays (C floats), read from the arena by a small op.
 */
function batchNormTrain(g: TrainGraph, m: BatchNorm, x: Value, pixels: number, act: Act): Value {
  const k = g.rt.k;
  const arena = g.rt.arena;
  const C = m.numFeatures;
  const stats = g.value([4 * C]); // mean, var, scale, shift
  const y = g.value(x.shape);
  const gamma = m.weight ? g.paramData(m.weight) : 0;
  const beta = m.bias ? g.paramData(m.bias) : 0;
  const ones = new Float32Array(C).fill(1);
  // raw: these ops run inside a training step, whose own newer values must not be copied back mid-step
  const rm = m.runningMean.raw, rv = m.runningVar.raw;
  g.op(`${m.name}.stats`, [x], (p) => {
    const s = at(p, stats);
    k.batchnorm_stats(s, s + 4 * C, at(p, x), pixels, C);
    const f = arena.f32;
    const mean = wordIndex(s), vr = mean + C, sc = vr + C, sh = sc + C;
    const gm = gamma ? wordIndex(gamma) : -1, bt = beta ? wordIndex(beta) : -1;
    const unbias = pixels > 1 ? pixels / (pixels - 1) : 1;
    for (let i = 0; i < C; i++) {
      const inv = 1 / Math.sqrt(f[vr + i] + m.eps);
      const gi = gm >= 0 ? f[gm + i] : ones[i];
      f[sc + i] = gi * inv;
      f[sh + i] = (bt >= 0 ? f[bt + i] : 0) - f[mean + i] * gi * inv;
      rm[i] = (1 - m.momentum) * rm[i] + m.momentum * f[mean + i];
      rv[i] = (1 - m.momentum) * rv[i] + m.momentum * f[vr + i] * unbias;
    }
    m.numBatchesTracked.raw[0]++;
  });
  g.op(m.name, [x, stats], (p) => {
    const s = at(p, stats);
    k.scale_shift(at(p, y), at(p, x), s + 8 * C, s + 12 * C, pixels, C, act.code, act.alpha);
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
