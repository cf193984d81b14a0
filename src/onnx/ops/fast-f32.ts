/**
 * A float32 fast path for the few elementwise and row ops a convnet or classifier still runs apart after
 * the session's fusion (src/onnx/fuse.ts): Relu, LeakyRelu, Sigmoid, Tanh, Add and Mul of same-shape
 * operands, Softmax / LogSoftmax over contiguous rows, on the core's wasm kernels (elementwise.ts,
 * softmax.ts). Only large tensors take it (copying into the arena and back costs more than the TypeScript
 * loop below ~4096 elements); everything else stays on the generic TypeScript paths (math.ts, reduce.ts).
 * Results: Relu, Add and Mul are bit-identical to the TS path (one f32 rounding either way); Sigmoid, Tanh and
 * the softmax exp are the kernels' approximations (abs error <= 1.5e-7, exp rel <= 2e-7: assembly/activation.ts).
 */
import { activation } from '../../index.js';
import type { OnnxTensor } from '../value.js';
import type { OpContext, OpNode } from './types.js';
import { withArena } from './wasm.js';

/** Elements from which the kernels beat the TS loops (measured: ~1 us of arena traffic per call). */
export const FAST_F32_MIN = 4096;

const UNARY_CODES: Record<string, string> = { Relu: 'relu', Sigmoid: 'sigmoid', Tanh: 'tanh', LeakyRelu: 'leaky_relu' };

const isF32 = (t: OnnxTensor | undefined): t is OnnxTensor & { data: Float32Array } => !!t && t.dtype === 'float32' && t.data instanceof Float32Array;

/** The output of a unary activation or a same-shape Add/Mul on the kernels, or undefined when this path does not apply. */
export function elementwiseF32(node: OpNode, inputs: ReadonlyArray<OnnxTensor | undefined>, ctx: OpContext): OnnxTensor | undefined {
  const x = inputs[0];
  if (!isF32(x) || x.data.length < FAST_F32_MIN) return undefined;
  const k = ctx.rt.k, n = x.data.length;
  const unary = UNARY_CODES[node.opType];
  if (unary) {
    if (inputs.length !== 1) return undefined;
    const alpha = unary === 'leaky_relu' ? node.attrs.float('alpha', 0.01) : 0;
    if (!Number.isFinite(alpha)) return undefined;
    const code = activation(unary as 'relu', alpha).code;
    return run(ctx, x, (p) => k.activation(p, p, n, code, alpha));
  }
  if (node.opType !== 'Add' && node.opType !== 'Mul') return undefined;
  const y = inputs[1];
  if (inputs.length !== 2 || !isF32(y) || y.dims.length !== x.dims.length || y.dims.some((d, i) => d !== x.dims[i])) return undefined;
  return withArena(ctx.rt, (a) => {
    const p = a.put(x.data), q = a.put(y.data);
    if (node.opType === 'Add') k.add(p, p, q, n, 0, 0);
    else k.mul(p, p, q, n);
    return { dtype: 'float32', dims: [...x.dims], data: a.read(p, n) };
  });
}

/** Softmax / LogSoftmax of float32 `x` over rows of `cols` contiguous elements on the kernels, or undefined. */
export function softmaxF32(x: OnnxTensor, cols: number, log: boolean, ctx: OpContext): OnnxTensor | undefined {
  if (!isF32(x) || x.data.length < FAST_F32_MIN || cols < 1) return undefined;
  const k = ctx.rt.k, rows = x.data.length / cols;
  return run(ctx, x, (p) => (log ? k.log_softmax(p, p, rows, cols) : k.softmax(p, p, rows, cols)));
}

/** `x` copied into the arena, transformed in place by `fn`, read back as a new tensor of its dims. */
function run(ctx: OpContext, x: OnnxTensor & { data: Float32Array }, fn: (ptr: number) => void): OnnxTensor {
  return withArena(ctx.rt, (a) => {
    const p = a.put(x.data);
    fn(p);
    return { dtype: 'float32', dims: [...x.dims], data: a.read(p, x.data.length) };
  });
}
