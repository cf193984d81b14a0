/**
 * Conv and ConvTranspose (https://onnx.ai/onnx/operators/onnx__Conv.html, onnx__ConvTranspose.html), opsets
 * 1 and 11 (the same semantics; 11 only documents the default kernel_shape and pads).
 *
 * Fast path (float32, 1-D and 2-D Conv): the core's kernels called directly with arena blocks: the NCHW input
 * is transposed to NHWC in wasm (nchw_to_nhwc), convolved by conv2d_nhwc (im2col + packed GEMM, 1x1, depthwise
 * and grouped paths) or conv2d_winograd (3x3, stride 1, as nn.Conv2d picks it), transposed back. Calling the
 * kernels rather than building an nn.Conv2d per node keeps the ONNX pads (asymmetric, SAME_LOWER) and needs no
 * graph plan per input shape; the weights are packed once per node (wasm.ts). A 1-D conv is a 2-D one of height 1.
 * ConvTranspose (float32, 1-D and 2-D) is the kernels' conv2d_backward_data: the data gradient of a conv is
 * its transpose, and ONNX's W [C, M/group, k...] is that conv's forward weight as the kernel reads it.
 * Reference path (float64, 3-D, the shapes the kernels' 1x1 shortcuts would get wrong): a plain loop in f64.
 */
import { opError, type ConcatBlock, type OpNode, type OpSpec, type OpTable, type OpContext } from './types.js';
import type { OnnxTensor } from '../value.js';
import {
  capElements, floatInput, floatOutput, sameDtype, to3, windowAttrs, windowFor, MAX_ELEMENTS,
  type FloatTensor, type Window, type WindowAttrs,
} from './spatial.js';
import { packedBlock, withArena, repackUnlessConstant } from './wasm.js';
import { putNhwc, readNhwc, toNchw, writeNhwc } from './nhwc.js';

function groupAttr(node: OpNode): number | string {
  const g = node.attrs.int('group', 1);
  return Number.isInteger(g) && g >= 1 && g <= MAX_ELEMENTS ? g : `group must be a positive integer, got ${g}`;
}

/** The checks of a Conv's (or ConvTranspose's, ConvInteger's) attributes, for check(). */
export function checkConvLike(node: OpNode, transpose: boolean, maxInputs = 3): string | undefined {
  const w = windowAttrs(node, { dilations: true });
  if (typeof w === 'string') return w;
  const g = groupAttr(node);
  if (typeof g === 'string') return g;
  if (w.kernel && w.kernel.length > 3) return `${w.kernel.length}-D convolutions are not supported (1-D to 3-D are)`;
  if (node.inputs.length < 2 || node.inputs.length > maxInputs) return `needs inputs X, W and at most ${maxInputs - 2} more, got ${node.inputs.length}`;
  if (transpose) {
    for (const name of ['output_padding', 'output_shape']) {
      const v = node.attrs.ints(name);
      if (v && v.some((x) => !Number.isInteger(x) || x < 0 || x > MAX_ELEMENTS)) return `${name} must be non-negative integers, got [${v.join(', ')}]`;
    }
  }
  return undefined;
}

interface ConvShapes { x: FloatTensor; w: FloatTensor; b?: FloatTensor; group: number; r: number; kernel: number[]; }

/** The inputs of a Conv / ConvTranspose checked against each other. */
function convInputs(node: OpNode, inputs: ReadonlyArray<OnnxTensor | undefined>, transpose: boolean): ConvShapes {
  const x = floatInput(node, inputs[0], 'X'), w = floatInput(node, inputs[1], 'W');
  const b = inputs[2] ? floatInput(node, inputs[2], 'B') : undefined;
  sameDtype(node, x, w, 'W');
  sameDtype(node, x, b, 'B');
  const group = node.attrs.int('group', 1);
  const r = x.dims.length - 2;
  if (r < 1 || r > 3) throw opError(node, `X must be [N, C, D1, ...] with 1 to 3 spatial axes, got [${x.dims.join(', ')}]`);
  if (w.dims.length !== x.dims.length) throw opError(node, `W [${w.dims.join(', ')}] must have the rank of X [${x.dims.join(', ')}]`);
  const c = x.dims[1];
  // Conv: W [M, C/group, k...]; ConvTranspose: W [C, M/group, k...]
  if (!transpose && w.dims[1] * group !== c) throw opError(node, `W [${w.dims.join(', ')}] needs C/group = ${c}/${group} input channels in dim 1`);
  if (!transpose && w.dims[0] % group) throw opError(node, `W's ${w.dims[0]} output channels are not divisible by group ${group}`);
  if (transpose && (w.dims[0] !== c || c % group)) throw opError(node, `W [${w.dims.join(', ')}] needs dim 0 = C = ${c}, divisible by group ${group}`);
  const kernel = w.dims.slice(2);
  const ks = node.attrs.ints('kernel_shape');
  if (ks && (ks.length !== r || ks.some((k, i) => k !== kernel[i]))) throw opError(node, `kernel_shape [${ks.join(', ')}] does not match W's [${kernel.join(', ')}]`);
  const m = transpose ? w.dims[1] * group : w.dims[0];
  if (b && (b.dims.length !== 1 || b.dims[0] !== m)) throw opError(node, `B must be [${m}], got [${b.dims.join(', ')}]`);
  if (kernel.some((k) => k < 1)) throw opError(node, `W [${w.dims.join(', ')}] has an empty kernel`);
  return { x, w, b, group, r, kernel };
}

// ---- Conv ----

/** A Conv node's inputs, window and output dims (checked against the size cap), plain or fused alike. */
function convSetup(node: OpNode, inputs: ReadonlyArray<OnnxTensor | undefined>, ctx: OpContext) {
  repackUnlessConstant(node, ctx, [1, 2]);
  const s = convInputs(node, inputs, false);
  const attrs = windowAttrs(node, { dilations: true }) as WindowAttrs;
  const win = windowFor(node, attrs, s.x.dims.slice(2), s.kernel);
  const dims = [s.x.dims[0], s.w.dims[0], ...win.outSize];
  capElements(node, dims);
  return { s, win, dims };
}

const Conv: OpSpec = {
  check: (node) => checkConvLike(node, false),
  run(node, inputs, ctx) {
    const { s, win, dims } = convSetup(node, inputs, ctx);
    if (s.x.dtype === 'float32' && s.r <= 2 && !oneByOneMisfit(win)) return [convKernel(node, s, win, dims, ctx)];
    return [convReference({ ...s, x: toNchw(ctx.rt, s.x) as FloatTensor }, win, dims)];
  },
};

/** The kernels' 1x1 stride-1 unpadded shortcut assumes output = input size; end-only pads break that. */
function oneByOneMisfit(win: Window): boolean {
  return win.kernel.every((k) => k === 1) && win.strides.every((v) => v === 1) && win.padBegin.every((p) => p === 0)
    && win.outSize.some((o, i) => o !== win.inSize[i]);
}

/** 2-D geometry of a 1-D or 2-D window (1-D: height 1). */
function as2d(v: readonly number[], one: number): [number, number] {
  return v.length === 1 ? [one, v[0]] : [v[0], v[1]];
}

/**
 * What a fused node (src/onnx/fuse.ts) adds to the conv's epilogue: an activation and a residual to
 * accumulate onto. `takeResidual`: this node is the residual's last reader, so when it is an arena-resident
 * value its block may become the output (the kernels accumulate in place, as the zoo's residual blocks do).
 */
export interface ConvEpilogue { act: number; alpha: number; residual?: OnnxTensor; takeResidual?: boolean; }

function convKernel(node: OpNode, s: ConvShapes, win: Window, dims: number[], ctx: OpContext, ep?: ConvEpilogue): OnnxTensor {
  const { rt } = ctx, k = rt.k;
  const [n, c] = s.x.dims, oc = s.w.dims[0], groups = s.group, icg = c / groups;
  const [h, w] = as2d(win.inSize, 1), [kh, kw] = as2d(win.kernel, 1), [sh, sw] = as2d(win.strides, 1);
  const [dh, dw] = as2d(win.dilations, 1), [ph, pw] = as2d(win.padBegin, 0), [oh, ow] = as2d(win.outSize, 1);
  // as nn.Conv2d: Winograd F(2x2, 3x3) for 3x3 stride-1 undilated dense convs past the first layer
  const winograd = kh === 3 && kw === 3 && sh === 1 && sw === 1 && dh === 1 && dw === 1 && groups === 1 && c >= 8;
  const packedFloats = winograd ? k.conv2d_winograd_packed_size(oc, c) : k.conv2d_packed_size(oc, icg, kh, kw, groups);
  const wt = s.w, bt = s.b;
  const pwPtr = packedBlock(node, rt, winograd ? 'conv-winograd' : 'conv', [wt, wt.data, bt, bt?.data], (packedFloats + oc) * 4, (ptr) => {
    withArena(rt, (a) => {
      const raw = a.put(wt.data as Float32Array);
      if (winograd) k.conv2d_winograd_pack(ptr, raw, oc, c);
      else k.conv2d_pack_weights(ptr, raw, oc, icg, kh, kw, groups);
    });
    rt.arena.write(ptr + packedFloats * 4, bt ? (bt.data as Float32Array) : new Float32Array(oc));
  });
  const biasPtr = pwPtr + packedFloats * 4;
  // a 1-D conv is a 2-D one of height 1; only rank-4 values carry a layout
  const rank4 = s.x.dims.length === 4;
  const x4: OnnxTensor = rank4 ? s.x : { dtype: 'float32', dims: [n, c, h, w], data: s.x.data };
  const out4 = [n, oc, oh, ow];
  const flags = ep ? (ep.act << 1) | (ep.residual ? 1 : 0) : 0, alpha = ep?.alpha ?? 0;
  const r = ep?.residual;
  // an in-place Concat's input: the output goes into its channels of the Concat's block (pixel stride = total)
  const block = !r && rank4 && node.nhwcOut ? concatBlock(node, ctx, n, oh, ow) : undefined;
  return withArena(rt, (a) => {
    const xh = putNhwc(a, x4);
    // accumulate: the kernels add the block's contents before the activation (a fused residual Add)
    const inPlace = !!(r?.ptr && ep?.takeResidual && r.ptr !== xh);
    const yh = block ? block.ptr + node.concatSlot!.offset * 4 : inPlace ? r!.ptr! : a.alloc(n * oh * ow * oc);
    const ops = block ? block.total : oc;
    if (r && !inPlace) writeNhwc(a, yh, rank4 ? r : { ...r, dims: out4 });
    if (winograd) {
      const scratch = a.scratch(k.conv2d_winograd_scratch_size(n, oh, ow, c, oc));
      k.conv2d_winograd(yh, xh, pwPtr, biasPtr, n, h, w, c, oh, ow, oc, ph, pw, ops, flags, scratch, alpha);
    } else {
      const scratch = a.scratch(k.conv2d_scratch_size(n, h, w, c, oh, ow, oc, kh, kw, sh, sw, ph, pw, dh, dw, groups));
      k.conv2d_nhwc(yh, xh, pwPtr, biasPtr, n, h, w, c, oh, ow, oc, kh, kw, sh, sw, ph, pw, dh, dw, groups, ops, flags, scratch, alpha);
    }
    if (block) return { dtype: 'float32', dims: out4, data: new Float32Array(0), layout: 'nhwc', slice: { key: node.concatSlot!.key, offset: node.concatSlot!.offset } };
    const keep = rank4 && !!node.nhwcOut;
    const y = readNhwc(a, yh, out4, keep);
    // the residual's block is the output's now (else the session releases it with the residual)
    if (inPlace && keep) r!.ptr = undefined;
    return rank4 ? y : { dtype: 'float32', dims, data: y.data };
  });
}

/**
 * The block of the in-place Concat this conv writes into (node.concatSlot), allocated by the first of its convs
 * to run; undefined (the conv writes a block of its own, the Concat copies) when there is none or its
 * batch and spatial dims differ from this output's (the Concat then reports the mismatch as it would).
 */
function concatBlock(node: OpNode, ctx: OpContext, n: number, h: number, w: number): ConcatBlock | undefined {
  const slot = node.concatSlot, blocks = ctx.concatBlocks;
  if (!slot || !blocks) return undefined;
  let b = blocks.get(slot.key);
  if (!b) {
    if (!(n * h * w * slot.total <= 2 ** 31)) return undefined;
    b = { ptr: ctx.rt.arena.alloc(n * h * w * slot.total * 4), n, h, w, total: slot.total };
    blocks.set(slot.key, b);
  }
  return b.n === n && b.h === h && b.w === w && b.total === slot.total ? b : undefined;
}

/**
 * A fused Conv (src/onnx/fuse.ts) on the kernels with `ep` in its epilogue, or undefined when the kernel path
 * does not take these inputs (not float32, 3-D, a residual of another shape or dtype): the caller then runs
 * the original nodes one by one.
 */
export function convFused(node: OpNode, inputs: ReadonlyArray<OnnxTensor | undefined>, ctx: OpContext, ep: ConvEpilogue): OnnxTensor | undefined {
  const { s, win, dims } = convSetup(node, inputs, ctx);
  if (s.x.dtype !== 'float32' || s.r > 2 || oneByOneMisfit(win)) return undefined;
  const r = ep.residual;
  if (r && (r.dtype !== 'float32' || r.dims.length !== dims.length || r.dims.some((d, i) => d !== dims[i]))) return undefined;
  return convKernel(node, s, win, dims, ctx, ep);
}

/** out[n, m, o...] = B[m] + sum over the group's channels and the kernel taps inside the input, in f64. */
function convReference(s: ConvShapes, win: Window, dims: number[]): FloatTensor {
  const x = s.x.data, wd = s.w.data, bias = s.b?.data;
  const [n, c] = s.x.dims, m = s.w.dims[0], icg = c / s.group, ocg = m / s.group;
  const [id, ih, iw] = to3(win.inSize, 1), [kd, kh, kw] = to3(win.kernel, 1), [sd, sh, sw] = to3(win.strides, 1);
  const [dd, dh, dw] = to3(win.dilations, 1), [pd, ph, pw] = to3(win.padBegin, 0), [od, oh, ow] = to3(win.outSize, 1);
  const out = floatOutput(s.x, dims), y = out.data;
  const inPlane = id * ih * iw, kPlane = kd * kh * kw;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let oc = 0; oc < m; oc++) {
      const g = Math.floor(oc / ocg);
      for (let z = 0; z < od; z++) for (let yy = 0; yy < oh; yy++) for (let xx = 0; xx < ow; xx++) {
        let acc = bias ? bias[oc] : 0;
        for (let icl = 0; icl < icg; icl++) {
          const xBase = (b * c + g * icg + icl) * inPlane, wBase = (oc * icg + icl) * kPlane;
          for (let a = 0; a < kd; a++) {
            const zi = z * sd - pd + a * dd;
            if (zi < 0 || zi >= id) continue;
            for (let i = 0; i < kh; i++) {
              const yi = yy * sh - ph + i * dh;
              if (yi < 0 || yi >= ih) continue;
              const row = xBase + (zi * ih + yi) * iw, wRow = wBase + (a * kh + i) * kw;
              for (let j = 0; j < kw; j++) {
                const xi = xx * sw - pw + j * dw;
                if (xi >= 0 && xi < iw) acc += x[row + xi] * wd[wRow + j];
              }
            }
          }
        }
        y[o++] = acc;
      }
    }
  }
  return out;
}

// ---- ConvTranspose ----

/**
 * The output size and begin pads of a transposed conv: the full size is stride*(in-1) + output_padding +
 * (k-1)*dilation + 1; pads crop it, or output_shape / auto_pad SAME_* fix the output and the pads follow,
 * split as the spec says (SAME_UPPER puts the odd pad at the end, otherwise at the begin).
 */
function transposeWindow(node: OpNode, attrs: WindowAttrs, inSize: number[], kernel: number[]): Window {
  const r = inSize.length;
  const strides = attrs.strides ?? new Array<number>(r).fill(1), dilations = attrs.dilations ?? new Array<number>(r).fill(1);
  if (strides.length !== r || dilations.length !== r) throw opError(node, `strides/dilations need ${r} values for ${r} spatial axes`);
  const outPad = node.attrs.ints('output_padding') ?? new Array<number>(r).fill(0);
  if (outPad.length !== r) throw opError(node, `output_padding has ${outPad.length} values for ${r} spatial axes`);
  let outShape = node.attrs.ints('output_shape');
  if (outShape && outShape.length === r + 2) outShape = outShape.slice(2);
  if (outShape && outShape.length !== r) throw opError(node, `output_shape has ${outShape.length} values for ${r} spatial axes`);
  const pads = attrs.pads ?? new Array<number>(2 * r).fill(0);
  if (pads.length !== 2 * r) throw opError(node, `pads has ${pads.length} values for ${r} spatial axes (needs ${2 * r})`);
  const padBegin = pads.slice(0, r), padEnd = pads.slice(r), outSize: number[] = [];
  for (let i = 0; i < r; i++) {
    const full = strides[i] * (inSize[i] - 1) + outPad[i] + (kernel[i] - 1) * dilations[i] + 1;
    const same = attrs.autoPad === 'SAME_UPPER' || attrs.autoPad === 'SAME_LOWER';
    if (outShape || same) {
      const target = outShape ? outShape[i] : inSize[i] * strides[i];
      const total = full - target, half = Math.floor(total / 2);
      padBegin[i] = attrs.autoPad === 'SAME_UPPER' ? half : total - half;
      padEnd[i] = total - padBegin[i];
      outSize.push(target);
    } else {
      if (attrs.autoPad === 'VALID') padBegin[i] = padEnd[i] = 0;
      outSize.push(full - padBegin[i] - padEnd[i]);
    }
    if (!(outSize[i] >= 1)) throw opError(node, `the output size on spatial axis ${i} is ${outSize[i]} (input ${inSize[i]}, kernel ${kernel[i]}, pads ${padBegin[i]}+${padEnd[i]})`);
  }
  return { inSize, kernel, strides, dilations, padBegin, padEnd, outSize };
}

const ConvTranspose: OpSpec = {
  check: (node) => checkConvLike(node, true),
  run(node, inputs, ctx) {
    repackUnlessConstant(node, ctx, [1]);
    const s = convInputs(node, inputs, true);
    const attrs = windowAttrs(node, { dilations: true }) as WindowAttrs;
    const win = transposeWindow(node, attrs, s.x.dims.slice(2), s.kernel);
    const m = s.w.dims[1] * s.group;
    const dims = [s.x.dims[0], m, ...win.outSize];
    capElements(node, dims);
    if (s.x.dtype === 'float32' && s.r <= 2 && transposeFits(s, win)) return [convTransposeKernel(node, s, win, dims, ctx)];
    return [convTransposeReference(s, win, dims)];
  },
};

/**
 * conv2d_backward_data is a transposed conv (dy = X, dx = Y, the forward weights = W as ONNX lays it out);
 * its 1x1 stride-1 unpadded shortcut assumes the sizes match (no output_padding), and negative pads (an
 * output_shape past the full size) stay on the loop.
 */
function transposeFits(s: ConvShapes, win: Window): boolean {
  if (win.padBegin.some((p) => p < 0)) return false;
  const shortcut = win.kernel.every((k) => k === 1) && win.strides.every((v) => v === 1) && win.padBegin.every((p) => p === 0);
  return !shortcut || win.outSize.every((o, i) => o === win.inSize[i]);
}

function convTransposeKernel(node: OpNode, s: ConvShapes, win: Window, dims: number[], ctx: OpContext): FloatTensor {
  const { rt } = ctx, k = rt.k;
  const [n, c] = s.x.dims, groups = s.group, m = s.w.dims[1] * groups;
  const [ih, iw] = as2d(win.inSize, 1), [kh, kw] = as2d(win.kernel, 1), [sh, sw] = as2d(win.strides, 1);
  const [dh, dw] = as2d(win.dilations, 1), [ph, pw] = as2d(win.padBegin, 0), [oh, ow] = as2d(win.outSize, 1);
  const wt = s.w;
  // the kernel reads W raw (OIHW of the forward conv): kept in the arena per node like packed weights
  const wPtr = packedBlock(node, rt, 'conv-transpose', [wt, wt.data], wt.data.length * 4, (ptr) => rt.arena.write(ptr, wt.data as Float32Array));
  const out = floatOutput(s.x, dims), y = out.data as Float32Array;
  withArena(rt, (a) => {
    const xin = a.put(s.x.data as Float32Array);
    let xh = xin;
    if (c > 1 && ih * iw > 1) {
      xh = a.alloc(n * c * ih * iw);
      k.nchw_to_nhwc(xh, xin, n, c, ih, iw);
    }
    const yh = a.alloc(n * oh * ow * m);
    const scratch = a.scratch(k.conv2d_backward_scratch_size(n, oh, ow, m, ih, iw, c, kh, kw, sh, sw, ph, pw, dh, dw, groups));
    k.conv2d_backward_data(yh, xh, wPtr, n, oh, ow, m, ih, iw, c, kh, kw, sh, sw, ph, pw, dh, dw, groups, scratch);
    let yp = yh;
    if (m > 1 && oh * ow > 1) {
      yp = a.alloc(n * m * oh * ow);
      k.nhwc_to_nchw(yp, yh, n, m, oh, ow);
    }
    rt.arena.read(yp, y.length, y);
  });
  if (s.b) {
    const b = s.b.data, plane = oh * ow;
    for (let i = 0; i < n * m; i++) {
      const v = b[i % m];
      for (let j = i * plane; j < (i + 1) * plane; j++) y[j] += v;
    }
  }
  return out;
}

/** Scatter form: every input cell adds x * w into out[i*stride + k*dilation - padBegin] where that lands inside. */
function convTransposeReference(s: ConvShapes, win: Window, dims: number[]): FloatTensor {
  const x = s.x.data, wd = s.w.data, bias = s.b?.data;
  const [n, c] = s.x.dims, icg = c / s.group, ocg = s.w.dims[1], m = ocg * s.group;
  const [id, ih, iw] = to3(win.inSize, 1), [kd, kh, kw] = to3(win.kernel, 1), [sd, sh, sw] = to3(win.strides, 1);
  const [dd, dh, dw] = to3(win.dilations, 1), [pd, ph, pw] = to3(win.padBegin, 0), [od, oh, ow] = to3(win.outSize, 1);
  const acc = new Float64Array(n * m * od * oh * ow);
  const inPlane = id * ih * iw, outPlane = od * oh * ow, kPlane = kd * kh * kw;
  for (let b = 0; b < n; b++) {
    for (let ic = 0; ic < c; ic++) {
      const g = Math.floor(ic / icg);
      for (let ocl = 0; ocl < ocg; ocl++) {
        const oBase = (b * m + g * ocg + ocl) * outPlane, wBase = (ic * ocg + ocl) * kPlane;
        for (let z = 0; z < id; z++) for (let yy = 0; yy < ih; yy++) for (let xx = 0; xx < iw; xx++) {
          const v = x[(b * c + ic) * inPlane + (z * ih + yy) * iw + xx];
          for (let a = 0; a < kd; a++) {
            const zo = z * sd + a * dd - pd;
            if (zo < 0 || zo >= od) continue;
            for (let i = 0; i < kh; i++) {
              const yo = yy * sh + i * dh - ph;
              if (yo < 0 || yo >= oh) continue;
              const row = oBase + (zo * oh + yo) * ow, wRow = wBase + (a * kh + i) * kw;
              for (let j = 0; j < kw; j++) {
                const xo = xx * sw + j * dw - pw;
                if (xo >= 0 && xo < ow) acc[row + xo] += v * wd[wRow + j];
              }
            }
          }
        }
      }
    }
  }
  const out = floatOutput(s.x, dims), y = out.data;
  for (let i = 0; i < y.length; i++) y[i] = acc[i] + (bias ? bias[Math.floor(i / outPlane) % m] : 0);
  return out;
}

export const CONV_OPS: OpTable = { Conv, ConvTranspose };
