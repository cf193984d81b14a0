/**
 * Gemm and MatMul (https://onnx.ai/onnx/operators/onnx__Gemm.html, onnx__MatMul.html).
 *
 * float32 runs on the core's packed GEMM (gemm_packed / gemm), called directly with arena blocks: the B
 * operand (a Linear layer's weight: Gemm transB=1, or MatMul's 2-D right side) is packed once per node and
 * kept (wasm.ts), A is copied in, C comes out row-major. Gemm's C rides as the kernel's fused bias when it is
 * a row vector and alpha is 1; other C shapes and alpha/beta are applied after, in one pass over the output.
 * MatMul folds every batch of A into the rows of one GEMM when B has no batch, else runs one GEMM per
 * broadcast batch. float64 and the integer MatMuls run a plain loop (f64 accumulation; integers wrap).
 */
import { opError, type OpNode, type OpSpec, type OpTable, type OpContext } from './types.js';
import { allocData, numel, type OnnxTensor } from '../value.js';
import { capElements, floatInput, floatOutput, sameDtype, type FloatTensor } from './spatial.js';
import { packedBlock, withArena, repackUnlessConstant } from './wasm.js';

// ---- Gemm ----

/** Strides of C broadcast (unidirectionally) to [M, N], or a reason. */
function cStrides(c: OnnxTensor, m: number, n: number): [number, number] | string {
  const d = c.dims;
  if (d.length > 2) return `C [${d.join(', ')}] has more than 2 dims`;
  const rows = d.length === 2 ? d[0] : 1, cols = d.length >= 1 ? d[d.length - 1] : 1;
  if ((rows !== 1 && rows !== m) || (cols !== 1 && cols !== n)) return `C [${d.join(', ')}] does not broadcast to [${m}, ${n}]`;
  return [rows === 1 ? 0 : cols, cols === 1 ? 0 : 1];
}

/** The kernels' activation code and parameter a fused node (src/onnx/fuse.ts) applies in the GEMM's epilogue. */
export interface GemmEpilogue { act: number; alpha: number; }

/** Gemm's output; with `ep`, undefined when the activation cannot ride in the kernel's epilogue (see gemmFused). */
function gemm(node: OpNode, inputs: ReadonlyArray<OnnxTensor | undefined>, ctx: OpContext, ep?: GemmEpilogue): FloatTensor | undefined {
  repackUnlessConstant(node, ctx, [1]);
  const a = floatInput(node, inputs[0], 'A'), b = floatInput(node, inputs[1], 'B');
  const c = inputs[2] ? floatInput(node, inputs[2], 'C') : undefined;
  sameDtype(node, a, b, 'B');
  sameDtype(node, a, c, 'C');
  if (a.dims.length !== 2 || b.dims.length !== 2) throw opError(node, `A and B must be 2-D, got [${a.dims.join(', ')}] and [${b.dims.join(', ')}]`);
  const transA = node.attrs.int('transA', 0) === 1, transB = node.attrs.int('transB', 0) === 1;
  const alpha = node.attrs.float('alpha', 1), beta = node.attrs.float('beta', 1);
  const [m, k] = transA ? [a.dims[1], a.dims[0]] : a.dims;
  const [kb, n] = transB ? [b.dims[1], b.dims[0]] : b.dims;
  if (k !== kb) throw opError(node, `A${transA ? 'ᵀ' : ''} [${m}, ${k}] and B${transB ? 'ᵀ' : ''} [${kb}, ${n}] do not multiply`);
  const cs = c ? cStrides(c, m, n) : undefined;
  if (typeof cs === 'string') throw opError(node, cs);
  capElements(node, [m, n]);
  const g: GemmArgs = { a, b, m, n, k, transA, transB };
  let y: FloatTensor;
  // alpha = 1 and C a row vector: C (times beta) is the kernel's fused bias
  const fusedBias = c && cs && alpha === 1 && cs[0] === 0;
  // an activation rides in the epilogue only when nothing is applied after the kernel
  if (ep && !(a.dtype === 'float32' && m * n * k > 0 && alpha === 1 && (!c || fusedBias))) return undefined;
  if (a.dtype === 'float32' && m * n * k > 0) {
    let bias: Float32Array | undefined;
    if (fusedBias) {
      bias = new Float32Array(n);
      for (let j = 0; j < n; j++) bias[j] = beta * c.data[j * cs[1]];
    }
    y = gemmKernel(node, g, bias, ctx, ep);
    if (fusedBias) return y;
  } else y = gemmReference(g);
  const yd = y.data;
  if (alpha !== 1) for (let i = 0; i < yd.length; i++) yd[i] *= alpha;
  if (c && cs && beta !== 0) {
    const cd = c.data;
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) yd[i * n + j] += beta * cd[i * cs[0] + j * cs[1]];
  }
  return y;
}

const Gemm: OpSpec = {
  check(node) {
    for (const name of ['transA', 'transB']) {
      const v = node.attrs.int(name, 0);
      if (v !== 0 && v !== 1) return `${name} must be 0 or 1, got ${v}`;
    }
    // broadcast (Gemm before opset 7) is not read: C broadcasts whenever its shape allows, a superset of both settings
    if (node.inputs.length < 2 || node.inputs.length > 3) return `needs inputs A, B and an optional C, got ${node.inputs.length}`;
    return undefined;
  },
  run: (node, inputs, ctx) => [gemm(node, inputs, ctx)!],
};

/**
 * A fused Gemm or MatMul (src/onnx/fuse.ts) with the activation `ep` in the kernel's epilogue, or undefined
 * when the kernel path does not end the computation (not float32, Gemm's alpha or a C of full rows applied
 * after, an empty product): the caller then runs the original nodes one by one.
 */
export function gemmFused(node: OpNode, inputs: ReadonlyArray<OnnxTensor | undefined>, ctx: OpContext, ep: GemmEpilogue): OnnxTensor | undefined {
  if (node.opType === 'Gemm') return gemm(node, inputs, ctx, ep);
  return matmul(node, inputs, ctx, ep);
}

interface GemmArgs { a: FloatTensor; b: FloatTensor; m: number; n: number; k: number; transA: boolean; transB: boolean; }

/** Y[M, N] = op(A) · op(B) (+ bias[N]) on the packed GEMM; op(B) packed once per node. */
function gemmKernel(node: OpNode, g: GemmArgs, bias: Float32Array | undefined, ctx: OpContext, ep?: GemmEpilogue): FloatTensor {
  const { rt } = ctx, kk = rt.k, { m, n, k } = g;
  const pb = packedB(node, ctx, g.b, k, n, g.transB ? 1 : n, g.transB ? k : 1);
  const out = floatOutput(g.a, [m, n]);
  withArena(rt, (s) => {
    const ap = s.put(g.a.data as Float32Array);
    const bp = bias ? s.put(bias) : 0;
    const yp = s.alloc(m * n);
    kk.gemm_packed(yp, ap, pb, bp, m, n, k, g.transA ? 1 : k, g.transA ? m : 1, n, (ep?.act ?? 0) << 1, ep?.alpha ?? 0);
    rt.arena.read(yp, m * n, out.data as Float32Array);
  });
  return out;
}

/** B (element (k, n) at b_rs*k + b_cs*n) packed for gemm_packed, kept per node while B is the same tensor. */
function packedB(node: OpNode, ctx: OpContext, b: FloatTensor, k: number, n: number, bRs: number, bCs: number): number {
  const { rt } = ctx, kk = rt.k;
  return packedBlock(node, rt, `gemm-b ${k} ${n} ${bRs} ${bCs}`, [b, b.data], kk.gemm_packed_b_size(k, n) * 4, (ptr) => {
    withArena(rt, (s) => kk.gemm_pack_b(ptr, s.put(b.data as Float32Array), k, n, bRs, bCs));
  });
}

function gemmReference(g: GemmArgs): FloatTensor {
  const { m, n, k } = g, a = g.a.data, b = g.b.data;
  const [ars, acs] = g.transA ? [1, m] : [k, 1], [brs, bcs] = g.transB ? [1, k] : [n, 1];
  const out = floatOutput(g.a, [m, n]), y = out.data;
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let acc = 0;
    for (let p = 0; p < k; p++) acc += a[i * ars + p * acs] * b[p * brs + j * bcs];
    y[i * n + j] = acc;
  }
  return out;
}

// ---- MatMul ----

const INT_MATMUL = new Set(['int32', 'uint32', 'int64', 'uint64']);

/** numpy.matmul shapes: batch dims broadcast, a 1-D operand gains and then loses its unit dim. */
interface MatMulShape { m: number; k: number; n: number; batch: number[]; aStride: number[]; bStride: number[]; dims: number[]; }

function matmulShape(node: OpNode, ad: number[], bd: number[]): MatMulShape {
  if (ad.length === 0 || bd.length === 0) throw opError(node, 'MatMul needs operands of rank >= 1 (got a scalar)');
  const a = ad.length === 1 ? [1, ad[0]] : ad, b = bd.length === 1 ? [bd[0], 1] : bd;
  const [m, k] = a.slice(-2), [kb, n] = b.slice(-2);
  if (k !== kb) throw opError(node, `A [${ad.join(', ')}] and B [${bd.join(', ')}] do not multiply (${k} vs ${kb})`);
  const ba = a.slice(0, -2), bb = b.slice(0, -2), r = Math.max(ba.length, bb.length);
  const pa = [...new Array<number>(r - ba.length).fill(1), ...ba], pb = [...new Array<number>(r - bb.length).fill(1), ...bb];
  const batch: number[] = [];
  for (let i = 0; i < r; i++) {
    if (pa[i] !== pb[i] && pa[i] !== 1 && pb[i] !== 1) throw opError(node, `batch dims of A [${ad.join(', ')}] and B [${bd.join(', ')}] do not broadcast`);
    batch.push(pa[i] === 1 ? pb[i] : pa[i]);
  }
  // element strides (in matrices) of each operand over the broadcast batch; 0 where it broadcasts
  const strides = (p: number[]): number[] => {
    const s = new Array<number>(r).fill(0);
    let acc = 1;
    for (let i = r - 1; i >= 0; i--) {
      s[i] = p[i] === 1 ? 0 : acc;
      acc *= p[i];
    }
    return s;
  };
  const dims = [...batch, ...(ad.length > 1 ? [m] : []), ...(bd.length > 1 ? [n] : [])];
  return { m, k, n, batch, aStride: strides(pa), bStride: strides(pb), dims };
}

/** The A and B matrix offsets (in matrices) of every output batch, in order. */
function batchOffsets(s: MatMulShape): Array<[number, number]> {
  const total = numel(s.batch), out: Array<[number, number]> = [];
  const idx = new Array<number>(s.batch.length).fill(0);
  for (let t = 0; t < total; t++) {
    let oa = 0, ob = 0;
    for (let i = 0; i < idx.length; i++) {
      oa += idx[i] * s.aStride[i];
      ob += idx[i] * s.bStride[i];
    }
    out.push([oa, ob]);
    for (let i = idx.length - 1; i >= 0; i--) {
      if (++idx[i] < s.batch[i]) break;
      idx[i] = 0;
    }
  }
  return out;
}

/** MatMul's output; with `ep`, undefined off the kernel path (see gemmFused). */
function matmul(node: OpNode, inputs: ReadonlyArray<OnnxTensor | undefined>, ctx: OpContext, ep?: GemmEpilogue): OnnxTensor | undefined {
  repackUnlessConstant(node, ctx, [1]);
  const a = inputs[0], b = inputs[1];
  if (!a || !b) throw opError(node, 'the inputs A and B are required');
  if (a.dtype !== b.dtype) throw opError(node, `A is ${a.dtype} and B is ${b.dtype} (they must match)`);
  const s = matmulShape(node, a.dims, b.dims);
  capElements(node, s.dims);
  if (a.dtype === 'float32' && s.m * s.n * s.k > 0) return matmulKernel(node, a as FloatTensor, b as FloatTensor, s, ctx, ep);
  if (ep) return undefined;
  if (a.dtype === 'float32' || a.dtype === 'float64' || INT_MATMUL.has(a.dtype)) return matmulReference(a, b, s);
  throw opError(node, `${a.dtype} is not supported (float32, float64, int32, uint32, int64, uint64 are)`);
}

const MatMul: OpSpec = {
  check: (node) => (node.inputs.length === 2 ? undefined : `needs inputs A and B, got ${node.inputs.length}`),
  run: (node, inputs, ctx) => [matmul(node, inputs, ctx)!],
};

function matmulKernel(node: OpNode, a: FloatTensor, b: FloatTensor, s: MatMulShape, ctx: OpContext, ep?: GemmEpilogue): FloatTensor {
  const { rt } = ctx, kk = rt.k, { m, n, k } = s;
  const flags = (ep?.act ?? 0) << 1, alpha = ep?.alpha ?? 0;
  const out = floatOutput(a, s.dims);
  const bBatches = s.bStride.every((x) => x === 0);
  withArena(rt, (sc) => {
    const ap = sc.put(a.data as Float32Array);
    const yp = sc.alloc(out.data.length);
    if (bBatches) {
      // B is one matrix: every batch of A (contiguous, none broadcast) is rows of a single GEMM
      const pb = packedB(node, ctx, b, k, n, n, 1);
      kk.gemm_packed(yp, ap, pb, 0, numel(s.batch) * m, n, k, k, 1, n, flags, alpha);
    } else {
      const bp = sc.put(b.data as Float32Array);
      const scratch = sc.scratch(kk.gemm_packed_b_size(k, n) * 4);
      batchOffsets(s).forEach(([oa, ob], t) => {
        kk.gemm(yp + t * m * n * 4, ap + oa * m * k * 4, bp + ob * k * n * 4, 0, m, n, k, k, 1, n, 1, n, flags, scratch, alpha);
      });
    }
    rt.arena.read(yp, out.data.length, out.data as Float32Array);
  });
  return out;
}

function matmulReference(a: OnnxTensor, b: OnnxTensor, s: MatMulShape): OnnxTensor {
  const { m, n, k } = s;
  const out: OnnxTensor = { dtype: a.dtype, dims: s.dims, data: allocData(a.dtype, numel(s.dims)) };
  const offs = batchOffsets(s);
  if (a.dtype === 'int64' || a.dtype === 'uint64') {
    const ad = a.data as BigInt64Array | BigUint64Array, bd = b.data as BigInt64Array | BigUint64Array;
    const y = out.data as BigInt64Array | BigUint64Array, wrap = a.dtype === 'int64' ? BigInt.asIntN : BigInt.asUintN;
    offs.forEach(([oa, ob], t) => {
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
        let acc = 0n;
        for (let p = 0; p < k; p++) acc += ad[oa * m * k + i * k + p] * bd[ob * k * n + p * n + j];
        y[t * m * n + i * n + j] = wrap(64, acc);
      }
    });
    return out;
  }
  const ad = a.data as ArrayLike<number>, bd = b.data as ArrayLike<number>, y = out.data as Float32Array | Float64Array | Int32Array | Uint32Array;
  const int = a.dtype === 'int32' || a.dtype === 'uint32';
  offs.forEach(([oa, ob], t) => {
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let acc = 0;
      // integers wrap as the 32-bit machine type does (Math.imul, then the typed array's store)
      if (int) for (let p = 0; p < k; p++) acc = (acc + Math.imul(ad[oa * m * k + i * k + p], bd[ob * k * n + p * n + j])) | 0;
      else for (let p = 0; p < k; p++) acc += ad[oa * m * k + i * k + p] * bd[ob * k * n + p * n + j];
      y[t * m * n + i * n + j] = acc;
    }
  });
  return out;
}

export const MATMUL_OPS: OpTable = { Gemm, MatMul };
