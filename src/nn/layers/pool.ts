/**
 * Pooling as torch.nn.MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d (PyTorch semantics:
 * ceil_mode, count_include_pad, divisor_override; padding at most half the kernel).
 * https://pytorch.org/docs/stable/generated/torch.nn.MaxPool2d.html
 */
import { WasmzooError } from '../../errors.js';
import { checkOptions, optionKeys } from '../../options.js';
import { poolOut, pair, type Pair } from '../../shape.js';
import { shapeStr } from '../../tensor.js';
import { at, shapeError, type GraphBuilder, type Value } from '../../graph/graph.js';
import { inputGrad, isTraining, unsupported, type TrainGraph } from '../../graph/tape.js';
import { Module } from '../module.js';

export interface MaxPool2dOptions {
  /** Defaults to kernelSize, as PyTorch. */
  stride?: number | Pair;
  padding?: number | Pair;
  dilation?: number | Pair;
  ceilMode?: boolean;
}

export interface AvgPool2dOptions {
  stride?: number | Pair;
  padding?: number | Pair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number;
}

const MAX_POOL_OPTION_KEYS = optionKeys<MaxPool2dOptions>({ stride: 1, padding: 1, dilation: 1, ceilMode: 1 });
const AVG_POOL_OPTION_KEYS = optionKeys<AvgPool2dOptions>({ stride: 1, padding: 1, ceilMode: 1, countIncludePad: 1, divisorOverride: 1 });

function check4d(name: string, x: Value): readonly number[] {
  if (x.shape.length !== 4) throw shapeError(name, '[N, C, H, W]', x.shape);
  return x.shape;
}

abstract class Pool2d extends Module {
  readonly kernelSize: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
  readonly dilation: Pair;
  readonly ceilMode: boolean;
  constructor(kernelSize: number | Pair, stride: number | Pair | undefined, padding: number | Pair, dilation: number | Pair, ceilMode: boolean) {
    super();
    const kind = this.constructor.name;
    this.kernelSize = pair(kernelSize, `${kind} kernelSize`);
    this.stride = pair(stride ?? kernelSize, `${kind} stride`);
    this.padding = pair(padding, `${kind} padding`);
    this.dilation = pair(dilation, `${kind} dilation`);
    this.ceilMode = ceilMode;
    if (this.kernelSize.includes(0) || this.stride.includes(0) || this.dilation.includes(0)) {
      throw new WasmzooError('E_ARGUMENT', `${kind}: kernelSize, stride and dilation must be positive`);
    }
    if (this.padding.some((p, i) => p > this.kernelSize[i] / 2)) {
      throw new WasmzooError('E_ARGUMENT', `${kind}: padding ${shapeStr(this.padding)} must be at most half the kernel ${shapeStr(this.kernelSize)} (as PyTorch)`);
    }
  }

  protected outSize(name: string, h: number, w: number): Pair {
    const oh = poolOut(h, this.kernelSize[0], this.stride[0], this.padding[0], this.dilation[0], this.ceilMode);
    const ow = poolOut(w, this.kernelSize[1], this.stride[1], this.padding[1], this.dilation[1], this.ceilMode);
    if (oh <= 0 || ow <= 0) throw new WasmzooError('E_SHAPE', `${name}: input ${h}x${w} is too small for kernel ${this.kernelSize.join('x')}`);
    return [oh, ow];
  }
}

export class MaxPool2d extends Pool2d {
  constructor(kernelSize: number | Pair, opts: MaxPool2dOptions = {}) {
    opts = checkOptions('MaxPool2d', opts, MAX_POOL_OPTION_KEYS);
    super(kernelSize, opts.stride, opts.padding ?? 0, opts.dilation ?? 1, opts.ceilMode ?? false);
  }
  build(g: GraphBuilder, x: Value): Value {
    const [n, c, h, w] = check4d(this.name, x);
    const [oh, ow] = this.outSize(this.name, h, w);
    const y = g.value([n, c, oh, ow]);
    const k = g.rt.k;
    const [kh, kw] = this.kernelSize, [sh, sw] = this.stride, [ph, pw] = this.padding, [dh, dw] = this.dilation;
    g.op(this.name, [x], (p) => k.maxpool2d_nhwc(at(p, y), at(p, x), n, h, w, c, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw));
    if (isTraining(g)) maxPool2dBackward(g, this, x, y);
    return y;
  }
}

export class AvgPool2d extends Pool2d {
  readonly countIncludePad: boolean;
  readonly divisorOverride: number;
  constructor(kernelSize: number | Pair, opts: AvgPool2dOptions = {}) {
    opts = checkOptions('AvgPool2d', opts, AVG_POOL_OPTION_KEYS);
    super(kernelSize, opts.stride, opts.padding ?? 0, 1, opts.ceilMode ?? false);
    this.countIncludePad = opts.countIncludePad ?? true;
    this.divisorOverride = opts.divisorOverride ?? 0;
    if (opts.divisorOverride !== undefined && !(opts.divisorOverride > 0)) {
      throw new WasmzooError('E_ARGUMENT', `AvgPool2d: divisorOverride must be positive, got ${opts.divisorOverride}`);
    }
  }
  build(g: GraphBuilder, x: Value): Value {
    const [n, c, h, w] = check4d(this.name, x);
    const [oh, ow] = this.outSize(this.name, h, w);
    const y = g.value([n, c, oh, ow]);
    const k = g.rt.k;
    const [kh, kw] = this.kernelSize, [sh, sw] = this.stride, [ph, pw] = this.padding;
    const cip = this.countIncludePad ? 1 : 0;
    g.op(this.name, [x], (p) => k.avgpool2d_nhwc(at(p, y), at(p, x), n, h, w, c, oh, ow, kh, kw, sh, sw, ph, pw, cip, this.divisorOverride));
    if (isTraining(g)) avgPool2dBackward(g, this, x, y);
    return y;
  }
}

/** outputSize: an int, a pair, or a pair with null meaning "same as the input", as PyTorch. */
export type AdaptiveSize = number | readonly [number | null, number | null];

abstract class AdaptivePool2d extends Module {
  readonly outputSize: AdaptiveSize;
  constructor(outputSize: AdaptiveSize) {
    super();
    const s = typeof outputSize === 'number' ? [outputSize] : outputSize;
    if (!s.every((d) => d === null || (Number.isInteger(d) && d > 0))) {
      throw new WasmzooError('E_ARGUMENT', `${this.constructor.name}: outputSize must be positive integers (or null), got ${JSON.stringify(outputSize)}`);
    }
    this.outputSize = outputSize;
  }
  protected dims(x: Value): [number, number, number, number, number, number] {
    const [n, c, h, w] = check4d(this.name, x);
    const o = this.outputSize;
    const oh = typeof o === 'number' ? o : o[0] ?? h;
    const ow = typeof o === 'number' ? o : o[1] ?? w;
    return [n, c, h, w, oh, ow];
  }
}

export class AdaptiveAvgPool2d extends AdaptivePool2d {
  build(g: GraphBuilder, x: Value): Value {
    const [n, c, h, w, oh, ow] = this.dims(x);
    if (oh === h && ow === w) return x; // identity, no copy
    const y = g.value([n, c, oh, ow]);
    const k = g.rt.k;
    g.op(this.name, [x], (p) => k.adaptive_avgpool2d_nhwc(at(p, y), at(p, x), n, h, w, c, oh, ow));
    if (isTraining(g)) adaptiveAvgPool2dBackward(g, this.name, x, y);
    return y;
  }
}

export class AdaptiveMaxPool2d extends AdaptivePool2d {
  build(g: GraphBuilder, x: Value): Value {
    const [n, c, h, w, oh, ow] = this.dims(x);
    if (oh === h && ow === w) return x;
    if (isTraining(g)) unsupported(this.name, 'AdaptiveMaxPool2d');
    const y = g.value([n, c, oh, ow]);
    const k = g.rt.k;
    g.op(this.name, [x], (p) => k.adaptive_maxpool2d_nhwc(at(p, y), at(p, x), n, h, w, c, oh, ow));
    return y;
  }
}

/** Training half of MaxPool2d: the gradient goes to each window's maximum. */
function maxPool2dBackward(g: TrainGraph, m: MaxPool2d, x: Value, y: Value): void {
  const k = g.rt.k;
  const [n, c, h, w] = x.shape;
  const [oh, ow] = [y.shape[2], y.shape[3]];
  const [kh, kw] = m.kernelSize, [sh, sw] = m.stride, [ph, pw] = m.padding, [dh, dw] = m.dilation;
  inputGrad(g, m.name, x, y, [x], (p, dx, dy) => k.maxpool2d_backward_nhwc(at(p, dx), at(p, dy), at(p, x), n, h, w, c, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw));
}

/** Training half of AvgPool2d: each window's gradient spread over it with the forward's divisor. */
function avgPool2dBackward(g: TrainGraph, m: AvgPool2d, x: Value, y: Value): void {
  const k = g.rt.k;
  const [n, c, h, w] = x.shape;
  const [oh, ow] = [y.shape[2], y.shape[3]];
  const [kh, kw] = m.kernelSize, [sh, sw] = m.stride, [ph, pw] = m.padding;
  const cip = m.countIncludePad ? 1 : 0, div = m.divisorOverride;
  inputGrad(g, m.name, x, y, [], (p, dx, dy) => k.avgpool2d_backward_nhwc(at(p, dx), at(p, dy), n, h, w, c, oh, ow, kh, kw, sh, sw, ph, pw, cip, div));
}

function adaptiveAvgPool2dBackward(g: TrainGraph, name: string, x: Value, y: Value): void {
  const k = g.rt.k;
  const [n, c, h, w] = x.shape;
  inputGrad(g, name, x, y, [], (p, dx, dy) => k.adaptive_avgpool2d_backward_nhwc(at(p, dx), at(p, dy), n, h, w, c, y.shape[2], y.shape[3]));
}
