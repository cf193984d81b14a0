/**
 * Window geometry shared by Conv, ConvTranspose and the pools: the attributes kernel_shape, strides,
 * dilations, pads and auto_pad read and checked once, and the output size and begin/end pads of each
 * spatial axis computed as https://onnx.ai/onnx/operators/onnx__Conv.html and onnx__MaxPool.html define them.
 * Also the float helpers the nn ops share (which dtypes they compute, the 2^31 element cap).
 */
import type { OnnxTensor } from '../value.js';
import { numel } from '../value.js';
import { opError, type OpNode } from './types.js';

export const AUTO_PADS = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'] as const;
export type AutoPad = (typeof AUTO_PADS)[number];

/** No tensor of more elements is made from a file's attributes (typed arrays and the wasm arena stop near there). */
export const MAX_ELEMENTS = 2 ** 31;

/** The window attributes as written in the node (lengths not yet matched to an input's rank). */
export interface WindowAttrs {
  kernel?: number[];
  strides?: number[];
  dilations?: number[];
  pads?: number[];
  autoPad: AutoPad;
  ceil: boolean;
}

/** Read and validate the window attributes; a reason string when they are unusable (for check). */
export function windowAttrs(node: OpNode, opts: { ceil?: boolean; dilations?: boolean } = {}): WindowAttrs | string {
  const a = node.attrs;
  const kernel = a.ints('kernel_shape'), strides = a.ints('strides'), pads = a.ints('pads');
  const dilations = opts.dilations === false ? undefined : a.ints('dilations');
  if (opts.dilations === false && a.has('dilations')) return `the attribute dilations is not part of ${node.opType} at opset ${node.opset}`;
  const autoPad = a.string('auto_pad', 'NOTSET') as AutoPad;
  if (!AUTO_PADS.includes(autoPad)) return `auto_pad '${autoPad}' is not one of ${AUTO_PADS.join(', ')}`;
  const ceilMode = a.int('ceil_mode', 0);
  if (ceilMode !== 0 && ceilMode !== 1) return `ceil_mode must be 0 or 1, got ${ceilMode}`;
  if (ceilMode && !opts.ceil) return `the attribute ceil_mode is not part of ${node.opType} at opset ${node.opset}`;
  for (const [name, v] of [['kernel_shape', kernel], ['strides', strides], ['dilations', dilations]] as const) {
    if (v && v.some((x) => !Number.isInteger(x) || x < 1 || x > MAX_ELEMENTS)) return `${name} must be positive integers, got [${v.join(', ')}]`;
  }
  if (pads && pads.some((x) => !Number.isInteger(x) || x < 0 || x > MAX_ELEMENTS)) return `pads must be non-negative integers, got [${pads.join(', ')}]`;
  if (pads && pads.length % 2) return `pads needs a begin and an end per axis, got ${pads.length} values`;
  const r = kernel?.length;
  if (r !== undefined) {
    if (strides && strides.length !== r) return `strides has ${strides.length} values for a ${r}-D kernel_shape`;
    if (dilations && dilations.length !== r) return `dilations has ${dilations.length} values for a ${r}-D kernel_shape`;
    if (pads && pads.length !== 2 * r) return `pads has ${pads.length} values for a ${r}-D kernel_shape (needs ${2 * r})`;
  }
  if (pads && autoPad !== 'NOTSET' && pads.some((p) => p !== 0)) return `pads [${pads.join(', ')}] with auto_pad ${autoPad} (they exclude each other)`;
  return { kernel, strides, dilations, pads, autoPad, ceil: ceilMode === 1 };
}

/** One spatial problem: sizes per axis of the input, kernel, output, and the pads actually applied. */
export interface Window {
  inSize: number[];
  kernel: number[];
  strides: number[];
  dilations: number[];
  padBegin: number[];
  padEnd: number[];
  outSize: number[];
}

/**
 * The output size per axis for input spatial sizes `inSize` and a kernel `kernel` (from the attribute or the
 * weights). ceil_mode as PyTorch and onnxruntime: a last window that would start past the input and the
 * begin padding is dropped.
 */
export function windowFor(node: OpNode, w: WindowAttrs, inSize: number[], kernel: number[]): Window {
  const r = inSize.length;
  const fill = (v: number[] | undefined, what: string, d: number): number[] => {
    if (v && v.length !== r) throw opError(node, `${what} has ${v.length} values for ${r} spatial axes`);
    return v ?? new Array<number>(r).fill(d);
  };
  if (kernel.length !== r) throw opError(node, `kernel_shape has ${kernel.length} values for ${r} spatial axes`);
  const strides = fill(w.strides, 'strides', 1), dilations = fill(w.dilations, 'dilations', 1);
  const pads = w.pads ?? new Array<number>(2 * r).fill(0);
  if (pads.length !== 2 * r) throw opError(node, `pads has ${pads.length} values for ${r} spatial axes (needs ${2 * r})`);
  const padBegin = pads.slice(0, r), padEnd = pads.slice(r), outSize: number[] = [];
  for (let i = 0; i < r; i++) {
    const eff = (kernel[i] - 1) * dilations[i] + 1, s = strides[i], n = inSize[i];
    let out: number;
    if (w.autoPad === 'VALID') {
      out = Math.floor((n - eff) / s) + 1;
      padBegin[i] = padEnd[i] = 0;
    } else if (w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER') {
      out = Math.ceil(n / s);
      const total = Math.max(0, (out - 1) * s + eff - n);
      const small = Math.floor(total / 2);
      padBegin[i] = w.autoPad === 'SAME_UPPER' ? small : total - small;
      padEnd[i] = total - padBegin[i];
    } else {
      const span = n + padBegin[i] + padEnd[i] - eff;
      out = (w.ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
      if (w.ceil && out > 1 && (out - 1) * s >= n + padBegin[i]) out--;
    }
    if (!(out >= 1)) {
      throw opError(node, `input size ${n} on spatial axis ${i} is too small for kernel ${kernel[i]} (dilation ${dilations[i]}, pads ${padBegin[i]}+${padEnd[i]})`);
    }
    outSize.push(out);
  }
  return { inSize, kernel, strides, dilations, padBegin, padEnd, outSize };
}

/** Refuse (E_ONNX) a tensor of more than MAX_ELEMENTS elements before allocating it. */
export function capElements(node: OpNode, dims: readonly number[], what = 'the output'): number {
  const n = numel(dims);
  if (!(n <= MAX_ELEMENTS)) throw opError(node, `${what} would have ${n} elements ([${dims.join(', ')}]); wasmzoo refuses more than 2^31`);
  return n;
}

export type FloatTensor = OnnxTensor & { dtype: 'float32' | 'float64'; data: Float32Array | Float64Array };

/** The input as float32 / float64 (what these ops compute), else E_ONNX naming the node and the input. */
export function floatInput(node: OpNode, t: OnnxTensor | undefined, what: string): FloatTensor {
  if (!t) throw opError(node, `the input ${what} is missing`);
  if (t.dtype !== 'float32' && t.dtype !== 'float64') throw opError(node, `${what} is ${t.dtype}; wasmzoo computes this op in float32 and float64`);
  return t as FloatTensor;
}

/** A new float tensor of the same dtype as `like`. */
export function floatOutput(like: FloatTensor, dims: number[]): FloatTensor {
  const n = numel(dims);
  const data = like.dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  return { dtype: like.dtype, dims, data };
}

/** The same dtype, or E_ONNX naming both inputs. */
export function sameDtype(node: OpNode, a: OnnxTensor, b: OnnxTensor | undefined, what: string): void {
  if (b && b.dtype !== a.dtype) throw opError(node, `${what} is ${b.dtype}, the input X is ${a.dtype} (they must match)`);
}

/** Promote spatial sizes to 3 axes (leading 1s) so one triple loop serves 1-D, 2-D and 3-D. */
export function to3(v: readonly number[], one: number): [number, number, number] {
  const p = [...new Array<number>(3 - v.length).fill(one), ...v];
  return [p[0], p[1], p[2]];
}
