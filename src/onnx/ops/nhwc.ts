/**
 * NHWC-resident values (OnnxTensor.layout = 'nhwc'): the conv and pool kernels read and write [N, H, W, C],
 * ONNX says [N, C, H, W]. A chain Conv -> Relu -> MaxPool -> Conv transposed in and out at every op; the
 * session's layout pass (src/onnx/fuse.ts) lets a value stay NHWC while all its readers take it, and these
 * helpers move data between the layouts at the edges. dims always stay the logical NCHW ones.
 */
import type { Runtime } from '../../index.js';
import type { OnnxTensor } from '../value.js';
import type { ArenaScope } from './wasm.js';
import { withArena } from './wasm.js';

export function isNhwc(t: OnnxTensor | undefined): boolean {
  return t?.layout === 'nhwc';
}

/** NCHW and NHWC are the same bytes when C or H*W is 1 (or the tensor is not rank 4). */
function sameBytes(dims: readonly number[]): boolean {
  return dims.length !== 4 || dims[1] === 1 || dims[2] * dims[3] === 1;
}

/** `t` with NCHW data: itself when it already is, else a transposed copy (the input is never changed). */
export function toNchw(rt: Runtime, t: OnnxTensor): OnnxTensor;
export function toNchw(rt: Runtime, t: OnnxTensor | undefined): OnnxTensor | undefined;
export function toNchw(rt: Runtime, t: OnnxTensor | undefined): OnnxTensor | undefined {
  if (!t || t.layout !== 'nhwc') return t;
  if (sameBytes(t.dims)) return { dtype: t.dtype, dims: t.dims, data: t.data };
  const [n, c, h, w] = t.dims;
  const out = new Float32Array(t.data.length);
  withArena(rt, (a) => {
    const src = a.put(t.data as Float32Array), dst = a.alloc(out.length);
    rt.k.nhwc_to_nchw(dst, src, n, c, h, w);
    rt.arena.read(dst, out.length, out);
  });
  return { dtype: t.dtype, dims: t.dims, data: out };
}

/** An arena block holding `t` (rank-4 float32, either layout) as NHWC. */
export function putNhwc(a: ArenaScope, t: OnnxTensor): number {
  const data = t.data as Float32Array;
  if (t.layout === 'nhwc' || sameBytes(t.dims)) return a.put(data);
  const [n, c, h, w] = t.dims;
  const src = a.put(data), dst = a.alloc(data.length);
  a.rt.k.nchw_to_nhwc(dst, src, n, c, h, w);
  return dst;
}

/** Writes `t` (rank-4 float32, either layout) into the block `dst` as NHWC (the accumulate operand of a conv). */
export function writeNhwc(a: ArenaScope, dst: number, t: OnnxTensor): void {
  const data = t.data as Float32Array;
  if (t.layout === 'nhwc' || sameBytes(t.dims)) {
    a.rt.arena.write(dst, data);
    return;
  }
  const [n, c, h, w] = t.dims;
  a.rt.k.nchw_to_nhwc(dst, a.put(data), n, c, h, w);
}

/**
 * The float32 output [n, c, h, w] from the NHWC block `src`: left NHWC when `keepNhwc` (the node's readers
 * take it), else transposed to NCHW.
 */
export function readNhwc(a: ArenaScope, src: number, dims: number[], keepNhwc: boolean): OnnxTensor {
  const [n, c, h, w] = dims;
  const out = new Float32Array(n * c * h * w);
  if (keepNhwc || sameBytes(dims)) {
    a.rt.arena.read(src, out.length, out);
    return keepNhwc && !sameBytes(dims) ? { dtype: 'float32', dims, data: out, layout: 'nhwc' } : { dtype: 'float32', dims, data: out };
  }
  const dst = a.alloc(out.length);
  a.rt.k.nhwc_to_nchw(dst, src, n, c, h, w);
  a.rt.arena.read(dst, out.length, out);
  return { dtype: 'float32', dims, data: out };
}
