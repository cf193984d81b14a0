/**
 * Pooling: MaxPool (with its Indices output), AveragePool, LpPool and their Global forms
 * (https://onnx.ai/onnx/operators/onnx__MaxPool.html, onnx__AveragePool.html, onnx__LpPool.html).
 *
 * Fast path (float32, 1-D and 2-D, no Indices wanted): the core's maxpool2d_nhwc / avgpool2d_nhwc on arena
 * blocks, after an NCHW -> NHWC transpose in wasm (the kernels vectorise across channels). A 1-D pool is a 2-D
 * one of height 1. The kernels take begin pads only: the end pads live in the output size, which TS
 * computes (ceil_mode, auto_pad), and windows stop at the input's edge; so every max pool fits, and an average
 * pool fits when it does not count padding or its pads are symmetric (the kernel bounds a window at the
 * input plus the begin pad, as PyTorch).
 * Reference path (float64, the integer max pools, 3-D, Indices, asymmetric counted padding): plain loops.
 * Global pools are one pass over contiguous planes: plain TS.
 */
import { opError, type OpNode, type OpSpec, type OpTable, type OpContext } from './types.js';
import type { OnnxTensor } from '../value.js';
import { allocData, numel } from '../value.js';
import { capElements, floatInput, floatOutput, to3, windowAttrs, windowFor, type FloatTensor, type Window, type WindowAttrs } from './spatial.js';
import { withArena } from './wasm.js';
import { putNhwc, readNhwc, toNchw } from './nhwc.js';

type PoolKind = 'max' | 'avg' | 'lp';

/** Which window attributes an op has at an opset (ceil_mode and dilations arrive at 10, LpPool's at 18). */
function poolAttrs(node: OpNode, kind: PoolKind): WindowAttrs | string {
  const since = kind === 'lp' ? 18 : 10;
  const w = windowAttrs(node, { ceil: node.opset >= since, dilations: kind === 'max' ? node.opset >= 10 : kind === 'lp' && node.opset >= 18 });
  if (typeof w === 'string') return w;
  if (!w.kernel) return 'the attribute kernel_shape is required';
  if (w.kernel.length > 3) return `${w.kernel.length}-D pooling is not supported (1-D to 3-D are)`;
  return w;
}

function checkPool(node: OpNode, kind: PoolKind): string | undefined {
  const w = poolAttrs(node, kind);
  if (typeof w === 'string') return w;
  if (kind === 'max') {
    const so = node.attrs.int('storage_order', 0);
    if (so !== 0 && so !== 1) return `storage_order must be 0 or 1, got ${so}`;
  }
  if (kind === 'avg') {
    const cip = node.attrs.int('count_include_pad', 0);
    if (cip !== 0 && cip !== 1) return `count_include_pad must be 0 or 1, got ${cip}`;
  }
  if (kind === 'lp') {
    const p = lpOrder(node);
    if (typeof p === 'string') return p;
  }
  return undefined;
}

/** LpPool's p: a float attribute at opset 1, an int from 2 (default 2). */
function lpOrder(node: OpNode): number | string {
  let p = 2;
  if (node.attrs.has('p')) {
    try {
      p = node.attrs.int('p', 2);
    } catch {
      p = node.attrs.float('p', 2);
    }
  }
  return Number.isFinite(p) && p > 0 ? p : `p must be positive, got ${p}`;
}

const NUMERIC_MAX = new Set(['float32', 'float64', 'int8', 'uint8']);

interface PoolArgs { x: OnnxTensor; win: Window; dims: number[]; }

function poolArgs(node: OpNode, x: OnnxTensor | undefined, kind: PoolKind): PoolArgs {
  if (!x) throw opError(node, 'the input X is missing');
  const r = x.dims.length - 2;
  const attrs = poolAttrs(node, kind) as WindowAttrs;
  if (r < 1 || r !== attrs.kernel!.length) throw opError(node, `X [${x.dims.join(', ')}] needs ${attrs.kernel!.length} spatial axes after N, C`);
  const win = windowFor(node, attrs, x.dims.slice(2), attrs.kernel!);
  const dims = [x.dims[0], x.dims[1], ...win.outSize];
  capElements(node, dims);
  return { x, win, dims };
}

const MaxPool: OpSpec = {
  check: (node) => checkPool(node, 'max'),
  run(node, inputs, ctx) {
    const p = poolArgs(node, inputs[0], 'max');
    if (!NUMERIC_MAX.has(p.x.dtype)) throw opError(node, `X is ${p.x.dtype}; MaxPool runs float32, float64, int8 and uint8`);
    const wantIndices = !!node.outputs[1];
    if (p.x.dtype === 'float32' && p.win.inSize.length <= 2 && !wantIndices) return [poolKernel(node, p, 'max', false, ctx)];
    return maxReference({ ...p, x: toNchw(ctx.rt, p.x) }, wantIndices, node.attrs.int('storage_order', 0) === 1);
  },
};

const AveragePool: OpSpec = {
  check: (node) => checkPool(node, 'avg'),
  run(node, inputs, ctx) {
    const p = poolArgs(node, inputs[0], 'avg');
    const x = floatInput(node, p.x, 'X');
    const countPad = node.attrs.int('count_include_pad', 0) === 1;
    const symmetric = p.win.padBegin.every((b, i) => b === p.win.padEnd[i]);
    if (x.dtype === 'float32' && p.win.inSize.length <= 2 && (!countPad || symmetric)) return [poolKernel(node, p, 'avg', countPad, ctx)];
    return [sumReference(p, toNchw(ctx.rt, x) as FloatTensor, countPad ? 'avg-pad' : 'avg', 1)];
  },
};

const LpPool: OpSpec = {
  check: (node) => checkPool(node, 'lp'),
  run(node, inputs) {
    const p = poolArgs(node, inputs[0], 'lp');
    return [sumReference(p, floatInput(node, p.x, 'X'), 'lp', lpOrder(node) as number)];
  },
};

function as2d(v: readonly number[], one: number): [number, number] {
  return v.length === 1 ? [one, v[0]] : [v[0], v[1]];
}

function poolKernel(node: OpNode, p: PoolArgs, kind: 'max' | 'avg', countPad: boolean, ctx: OpContext): OnnxTensor {
  const { rt } = ctx, k = rt.k, x = p.x as FloatTensor, win = p.win;
  const [n, c] = x.dims;
  const [h, w] = as2d(win.inSize, 1), [kh, kw] = as2d(win.kernel, 1), [sh, sw] = as2d(win.strides, 1);
  const [dh, dw] = as2d(win.dilations, 1), [ph, pw] = as2d(win.padBegin, 0), [oh, ow] = as2d(win.outSize, 1);
  // a 1-D pool is a 2-D one of height 1; only rank-4 values carry a layout (nhwc.ts)
  const rank4 = x.dims.length === 4;
  const x4: OnnxTensor = rank4 ? x : { dtype: 'float32', dims: [n, c, h, w], data: x.data };
  return withArena(rt, (a) => {
    const xh = putNhwc(a, x4);
    const yh = a.alloc(n * c * oh * ow);
    if (kind === 'max') k.maxpool2d_nhwc(yh, xh, n, h, w, c, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw);
    else k.avgpool2d_nhwc(yh, xh, n, h, w, c, oh, ow, kh, kw, sh, sw, ph, pw, countPad ? 1 : 0, 0);
    const y = readNhwc(a, yh, [n, c, oh, ow], rank4 && !!node.nhwcOut);
    return rank4 ? y : { dtype: 'float32', dims: p.dims, data: y.data };
  });
}

/**
 * Taps [first, end) of a window starting at `start` (k taps, dilation d) that land inside [0, size): the loops
 * visit only those, so a huge kernel_shape from a file costs the input it covers, not its nominal size.
 */
function taps(start: number, k: number, d: number, size: number): [number, number] {
  const first = start < 0 ? Math.ceil(-start / d) : 0;
  return [first, Math.max(first, Math.min(k, Math.ceil((size - start) / d)))];
}

/** Max over each window's taps inside the input; Indices (int64) count row-major (or column-major) over N, C and the spatial axes. */
function maxReference(p: PoolArgs, wantIndices: boolean, columnMajor: boolean): OnnxTensor[] {
  const x = p.x.data as Float32Array | Float64Array | Int8Array | Uint8Array, win = p.win;
  const [n, c] = p.x.dims;
  const [id, ih, iw] = to3(win.inSize, 1), [kd, kh, kw] = to3(win.kernel, 1), [sd, sh, sw] = to3(win.strides, 1);
  const [dd, dh, dw] = to3(win.dilations, 1), [pd, ph, pw] = to3(win.padBegin, 0), [od, oh, ow] = to3(win.outSize, 1);
  const total = numel(p.dims);
  const y = allocData(p.x.dtype, total) as typeof x;
  const idx = wantIndices ? new BigInt64Array(total) : undefined;
  const plane = id * ih * iw;
  let o = 0;
  for (let pl = 0; pl < n * c; pl++) {
    const base = pl * plane;
    for (let z = 0; z < od; z++) for (let yy = 0; yy < oh; yy++) for (let xx = 0; xx < ow; xx++) {
      let best = -Infinity, at = -1;
      const z0 = z * sd - pd, y0 = yy * sh - ph, x0 = xx * sw - pw;
      const [a0, a1] = taps(z0, kd, dd, id), [i0, i1] = taps(y0, kh, dh, ih), [j0, j1] = taps(x0, kw, dw, iw);
      for (let a = a0; a < a1; a++) {
        const zi = z0 + a * dd;
        for (let i = i0; i < i1; i++) {
          const yi = y0 + i * dh;
          for (let j = j0; j < j1; j++) {
            const xi = x0 + j * dw;
            const off = (zi * ih + yi) * iw + xi, v = x[base + off];
            if (v > best || at < 0) {
              best = v;
              at = columnMajor ? zi + id * (yi + ih * xi) : off;
            }
          }
        }
      }
      y[o] = best;
      if (idx) idx[o] = BigInt(at < 0 ? -1 : base + at);
      o++;
    }
  }
  const outs: OnnxTensor[] = [{ dtype: p.x.dtype, dims: p.dims, data: y }];
  if (idx) outs.push({ dtype: 'int64', dims: p.dims, data: idx });
  return outs;
}

/**
 * Sums over windows: 'avg' divides by the taps inside the input, 'avg-pad' by the taps inside the padded
 * input (the window clipped at the end padding, as PyTorch's count_include_pad), 'lp' is (sum |x|^p)^(1/p).
 * A window with no input tap gives 0.
 */
function sumReference(pa: PoolArgs, x: FloatTensor, mode: 'avg' | 'avg-pad' | 'lp', p: number): FloatTensor {
  const xd = x.data, win = pa.win;
  const [n, c] = x.dims;
  const [id, ih, iw] = to3(win.inSize, 1), [kd, kh, kw] = to3(win.kernel, 1), [sd, sh, sw] = to3(win.strides, 1);
  const [dd, dh, dw] = to3(win.dilations, 1), [pd, ph, pw] = to3(win.padBegin, 0), [od, oh, ow] = to3(win.outSize, 1);
  const [ed, eh, ew] = to3(win.padEnd, 0);
  const out = floatOutput(x, pa.dims), y = out.data;
  const plane = id * ih * iw;
  // taps of a window (which starts at or after -pad_begin) inside the padded extent [-pad_begin, size + pad_end)
  const padded = (start: number, k: number, d: number, size: number, end: number): number =>
    Math.max(0, Math.min(k, Math.ceil((size + end - start) / d)));
  let o = 0;
  for (let pl = 0; pl < n * c; pl++) {
    const base = pl * plane;
    for (let z = 0; z < od; z++) for (let yy = 0; yy < oh; yy++) for (let xx = 0; xx < ow; xx++) {
      let acc = 0, cnt = 0;
      const z0 = z * sd - pd, y0 = yy * sh - ph, x0 = xx * sw - pw;
      const [a0, a1] = taps(z0, kd, dd, id), [i0, i1] = taps(y0, kh, dh, ih), [j0, j1] = taps(x0, kw, dw, iw);
      for (let a = a0; a < a1; a++) {
        const zi = z0 + a * dd;
        for (let i = i0; i < i1; i++) {
          const yi = y0 + i * dh;
          for (let j = j0; j < j1; j++) {
            const xi = x0 + j * dw;
            const v = xd[base + (zi * ih + yi) * iw + xi];
            acc += mode === 'lp' ? Math.abs(v) ** p : v;
            cnt++;
          }
        }
      }
      if (mode === 'lp') y[o++] = acc ** (1 / p);
      else {
        const div = mode === 'avg' ? cnt : padded(z0, kd, dd, id, ed) * padded(y0, kh, dh, ih, eh) * padded(x0, kw, dw, iw, ew);
        y[o++] = cnt === 0 || div === 0 ? 0 : acc / div;
      }
    }
  }
  return out;
}

// ---- Global pools: one value per (N, C) plane ----

function globalPool(kind: PoolKind): OpSpec {
  return {
    check(node) {
      if (kind === 'lp') {
        const p = lpOrder(node);
        if (typeof p === 'string') return p;
      }
      return undefined;
    },
    run(node, inputs) {
      const x = floatInput(node, inputs[0], 'X');
      if (x.dims.length < 3) throw opError(node, `X must be [N, C, D1, ...], got [${x.dims.join(', ')}]`);
      const [n, c] = x.dims, plane = numel(x.dims.slice(2));
      const out = floatOutput(x, [n, c, ...x.dims.slice(2).map(() => 1)]);
      const xd = x.data, y = out.data, p = kind === 'lp' ? (lpOrder(node) as number) : 1;
      for (let pl = 0; pl < n * c; pl++) {
        const base = pl * plane;
        let acc = kind === 'max' ? -Infinity : 0;
        if (kind === 'max') for (let i = 0; i < plane; i++) { const v = xd[base + i]; if (v > acc || Number.isNaN(v)) acc = v; }
        else if (kind === 'avg') for (let i = 0; i < plane; i++) acc += xd[base + i];
        else for (let i = 0; i < plane; i++) acc += Math.abs(xd[base + i]) ** p;
        y[pl] = kind === 'avg' ? (plane ? acc / plane : 0) : kind === 'lp' ? acc ** (1 / p) : acc;
      }
      return [out];
    },
  };
}

export const POOL_OPS: OpTable = {
  MaxPool, AveragePool, LpPool,
  GlobalMaxPool: globalPool('max'), GlobalAveragePool: globalPool('avg'), GlobalLpPool: globalPool('lp'),
};
