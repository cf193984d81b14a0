/**
 * Conv2d as torch.nn.Conv2d (https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html).
 * Weights [OC, IC/groups, KH, KW] as PyTorch; packed once into the kernel's layout, with a following
 * BatchNorm2d folded in and an activation fused when the caller (Sequential, a model) asks.
 */
import { WasmzooError } from '../../errors.js';
import { checkOptions, optionKeys } from '../../options.js';
import { Act, epilogueFlags } from '../../runtime/activation.js';
import { convOut, pair, type Pair } from '../../shape.js';
import { at, shapeError, type GraphBuilder, type Value } from '../../graph/graph.js';
import { PackedBlock, withStaged } from '../../graph/packed.js';
import { actGrad, isTraining, unsupported, type TrainGraph } from '../../graph/tape.js';
import { uniform } from '../init.js';
import { Module, type Parameter } from '../module.js';
import type { BatchNorm2d } from './norm.js';

export interface Conv2dOptions {
  stride?: number | Pair;
  /** An int, a pair, 'valid' (0) or 'same' (stride 1 only). */
  padding?: number | Pair | 'valid' | 'same';
  dilation?: number | Pair;
  groups?: number;
  bias?: boolean;
}

const CONV2D_OPTION_KEYS = optionKeys<Conv2dOptions>({ stride: 1, padding: 1, dilation: 1, groups: 1, bias: 1 });

/** What a caller may fuse into the conv: a following BatchNorm2d, an activation, another padding. */
export interface ConvFusion {
  bn?: BatchNorm2d;
  act?: Act;
  padding?: Pair;
  /**
   * Write into channels [channelOffset, channelOffset + outChannels) of an existing image value instead of
   * a new one (concatenation along channels without a copy, e.g. Inception branches).
   */
  into?: { value: Value; channelOffset: number };
  /**
   * With `into`: add the conv result to what that value already holds (before the activation), i.e. a fused
   * residual add: into = act(into + conv(x)). The value is read, so it stays alive up to this op.
   */
  accumulate?: boolean;
}

export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
  readonly dilation: Pair;
  readonly groups: number;
  readonly weight: Parameter;
  readonly bias?: Parameter;
  /**
   * Use Winograd F(2x2, 3x3) where it applies (default true; fastest). false packs the plain im2col layout:
   * 9/16 of the weight memory for 3x3 layers, slower. Set it before the first forward.
   */
  winograd = true;
  private packed = new PackedBlock();

  constructor(inChannels: number, outChannels: number, kernelSize: number | Pair, opts: Conv2dOptions = {}) {
    super();
    opts = checkOptions('Conv2d', opts, CONV2D_OPTION_KEYS);
    const groups = opts.groups ?? 1;
    for (const [n, v] of [['inChannels', inChannels], ['outChannels', outChannels], ['groups', groups]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new WasmzooError('E_ARGUMENT', `Conv2d: ${n} must be a positive integer, got ${v}`);
    }
    if (inChannels % groups || outChannels % groups) {
      throw new WasmzooError('E_ARGUMENT', `Conv2d: inChannels (${inChannels}) and outChannels (${outChannels}) must be divisible by groups (${groups})`);
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pair(kernelSize, 'Conv2d kernelSize');
    this.stride = pair(opts.stride ?? 1, 'Conv2d stride');
    this.dilation = pair(opts.dilation ?? 1, 'Conv2d dilation');
    this.groups = groups;
    if (this.kernelSize.includes(0) || this.stride.includes(0) || this.dilation.includes(0)) {
      throw new WasmzooError('E_ARGUMENT', 'Conv2d: kernelSize, stride and dilation must be positive');
    }
    const pad = opts.padding ?? 0;
    if (pad === 'valid') this.padding = [0, 0];
    else if (pad === 'same') {
      if (this.stride[0] !== 1 || this.stride[1] !== 1) throw new WasmzooError('E_ARGUMENT', "Conv2d: padding='same' needs stride 1 (as PyTorch)");
      const total = this.kernelSize.map((k, i) => this.dilation[i] * (k - 1));
      if (total.some((t) => t % 2)) throw new WasmzooError('E_ARGUMENT', "Conv2d: padding='same' with an even effective kernel needs asymmetric padding, not supported");
      this.padding = [total[0] / 2, total[1] / 2];
    } else this.padding = pair(pad, 'Conv2d padding');
    const [kh, kw] = this.kernelSize;
    this.weight = this.param('weight', [outChannels, inChannels / groups, kh, kw]);
    const bound = 1 / Math.sqrt((inChannels / groups) * kh * kw);
    uniform(this.weight.data, bound);
    if (opts.bias ?? true) {
      this.bias = this.param('bias', [outChannels]);
      uniform(this.bias.data, bound);
    }
  }

  build(g: GraphBuilder, x: Value, fuse: ConvFusion = {}): Value {
    const s = x.shape;
    if (s.length !== 4 || s[1] !== this.inChannels) throw shapeError(this.name, `[N, ${this.inChannels}, H, W]`, s);
    const [n, c, h, w] = s;
    const [kh, kw] = this.kernelSize;
    const [sh, sw] = this.stride;
    const [ph, pw] = fuse.padding ?? this.padding;
    const [dh, dw] = this.dilation;
    const oh = convOut(h, kh, sh, ph, dh);
    const ow = convOut(w, kw, sw, pw, dw);
    if (oh <= 0 || ow <= 0) {
      throw new WasmzooError('E_SHAPE', `${this.name}: input ${h}x${w} is too small for kernel ${kh}x${kw} (dilation ${dh}x${dw}, padding ${ph}x${pw})`);
    }
    if (isTraining(g)) {
      if (fuse.into) unsupported(this.name, fuse.accumulate ? 'accumulating into a value' : 'writing into a concat slice');
      // A batch norm normalises with batch statistics in training: it cannot be folded, so it runs after.
      const y = conv2dTrain(g, this, x, fuse.bn ? Act.None : fuse.act ?? Act.None, [ph, pw]);
      return fuse.bn ? fuse.bn.build(g, y, fuse.act ?? Act.None) : y;
    }
    const oc = this.outChannels;
    const rt = g.rt;
    const k = rt.k;
    const icg = c / this.groups;
    // 3x3, stride 1, dilation 1, groups 1 with at least 8 input channels: Winograd F(2x2, 3x3) (2.25x fewer
    // multiply-adds; measured 1.6-2x faster on the ResNet/VGG shapes). The first layers (C = 1..3) keep im2col.
    // `winograd = false` trades that speed for memory: its transformed weights take 16/9 of the raw ones.
    const plain = this.winograd && sh === 1 && sw === 1 && dh === 1 && dw === 1 && this.groups === 1 && c >= 8;
    const winograd = plain && kh === 3 && kw === 3;
    // 5x5 (AlexNet's conv2): zero-pad the kernel to 6x6 and run its four 3x3 quarters through Winograd, each
    // on the input shifted by (0|3, 0|3), accumulating: 64 instead of 100 multiply-adds per 2x2 output tile.
    const split5 = plain && kh === 5 && kw === 5;
    const key = `${this.weight.version},${this.bias?.version},${fuse.bn?.versionKey() ?? '-'},${plain}`;
    const wgFloats = k.conv2d_winograd_packed_size(oc, c);
    const packedFloats = winograd ? wgFloats : split5 ? 4 * wgFloats : k.conv2d_packed_size(oc, icg, kh, kw, this.groups);
    const pwPtr = this.packed.ensure(rt, key, (packedFloats + oc) * 4, (ptr) => {
      let weight = this.weight.data;
      let bias = this.bias?.data;
      if (fuse.bn) ({ weight, bias } = fuse.bn.foldInto(weight, bias));
      if (split5) {
        for (let q = 0; q < 4; q++) {
          const a = q >> 1 ? 3 : 0, b = q & 1 ? 3 : 0;
          const sub = new Float32Array(oc * c * 9);
          for (let o = 0; o < oc * c; o++) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
            if (a + i < 5 && b + j < 5) sub[o * 9 + i * 3 + j] = weight[o * 25 + (a + i) * 5 + b + j];
          }
          withStaged(rt, sub, (raw) => k.conv2d_winograd_pack(ptr + q * wgFloats * 4, raw, oc, c));
        }
      } else withStaged(rt, weight, (raw) => winograd
        ? k.conv2d_winograd_pack(ptr, raw, oc, c)
        : k.conv2d_pack_weights(ptr, raw, oc, icg, kh, kw, this.groups));
      rt.arena.write(ptr + packedFloats * 4, bias ?? new Float32Array(oc));
    });
    const biasPtr = this.bias || fuse.bn ? pwPtr + packedFloats * 4 : 0;
    let y: Value;
    let outPs = oc;
    let outOff = 0;
    if (fuse.into) {
      const t = fuse.into.value.shape;
      if (t.length !== 4 || t[0] !== n || t[2] !== oh || t[3] !== ow || fuse.into.channelOffset + oc > t[1]) {
        throw new WasmzooError('E_SHAPE', `${this.name}: output [${n}, ${oc}, ${oh}, ${ow}] does not fit channels ${fuse.into.channelOffset}.. of [${t.join(', ')}]`);
      }
      y = fuse.into.value;
      outPs = t[1];
      outOff = fuse.into.channelOffset * 4;
    } else y = g.value([n, oc, oh, ow]);
    const accumulate = !!(fuse.accumulate && fuse.into);
    const act = fuse.act ?? Act.None;
    const flags = epilogueFlags(act, accumulate);
    const alpha = act.alpha;
    const groups = this.groups;
    if (split5) {
      g.scratch(k.conv2d_winograd_scratch_size(n, oh, ow, c, oc));
      const actBits = flags & ~1;
      g.op(this.name, accumulate ? [x, y] : [x], (p, scratch) => {
        const o = at(p, y) + outOff, xi = at(p, x);
        for (let q = 0; q < 4; q++) {
          const a = q >> 1 ? 3 : 0, b = q & 1 ? 3 : 0;
          // quarter q: bias on the first, accumulate on the others (or all when fused), activation on the last
          const f = (q > 0 || accumulate ? 1 : 0) | (q === 3 ? actBits : 0);
          k.conv2d_winograd(o, xi, pwPtr + q * wgFloats * 4, q === 0 ? biasPtr : 0, n, h, w, c, oh, ow, oc, ph - a, pw - b, outPs, f, scratch, alpha);
        }
      });
      return y;
    }
    if (winograd) {
      g.scratch(k.conv2d_winograd_scratch_size(n, oh, ow, c, oc));
      g.op(this.name, accumulate ? [x, y] : [x], (p, scratch) =>
        k.conv2d_winograd(at(p, y) + outOff, at(p, x), pwPtr, biasPtr, n, h, w, c, oh, ow, oc, ph, pw, outPs, flags, scratch, alpha),
      );
      return y;
    }
    g.scratch(k.conv2d_scratch_size(n, h, w, c, oh, ow, oc, kh, kw, sh, sw, ph, pw, dh, dw, this.groups));
    g.op(this.name, accumulate ? [x, y] : [x], (p, scratch) =>
      k.conv2d_nhwc(at(p, y) + outOff, at(p, x), pwPtr, biasPtr, n, h, w, c, oh, ow, oc, kh, kw, sh, sw, ph, pw, dh, dw, groups, outPs, flags, scratch, alpha),
    );
    return y;
  }

  override releaseWeights(): void {
    this.packed.release();
    super.releaseWeights();
  }
}

/** Training half: Conv2d forward from raw weights (packed each step: training changes them), backward data/weight/bias. */
function conv2dTrain(g: TrainGraph, m: Conv2d, x: Value, act: Act, padding: Pair): Value {
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
    k.conv2d_nhwc(at(p, y), at(p, x), at(p, packed), b, n, h, w, c, oh, ow, oc, kh, kw, sh, sw, ph, pw, dh, dw, groups, oc, flags, s, act.alpha));
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
