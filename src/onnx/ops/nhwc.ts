/**
 * NHWC values (OnnxTensor.layout = 'nhwc'): the conv and pool kernels read and write [N, H, W, C], ONNX says
 * [N, C, H, W]. A chain Conv -> Relu -> MaxPool -> Conv transposed in and out at every op, and copied into the
 * arena and out again. The session's layout pass (src/onnx/fuse.ts) marks the values all of whose readers
 * take NHWC; a kernel writing such a value leaves it in its arena block (OnnxTensor.ptr, "resident"), the next
 * kernel reads it there, and the session releases the block after the last reader. These helpers move data
 * between the layouts and out of the arena at the edges. dims always stay the logical NCHW ones.
 */
import type { Runtime } from '../../index.js';
import { numel, type OnnxTensor } from '../value.js';
import type { ArenaScope } from './wasm.js';
import { withArena } from './wasm.js';

export function isNhwc(t: OnnxTensor | undefined): boolean {
  return t?.layout === 'nhwc';
}

/** Whether the value lives in an arena block (its data empty). */
export function isResident(t: OnnxTensor | undefined): boolean {
  return !!t?.ptr;
}

/** NCHW and NHWC are the same bytes when C or H*W is 1 (or the tensor is not rank 4). */
function sameBytes(dims: readonly number[]): boolean {
  return dims.length !== 4 || dims[1] === 1 || dims[2] * dims[3] === 1;
}

const EMPTY = new Float32Array(0);

/** `t` with NCHW data in a JS array: itself when it already is, else a transposed copy (the input is never changed). */
export function toNchw(rt: Runtime, t: OnnxTensor): OnnxTensor;
export function toNchw(rt: Runtime, t: OnnxTensor | undefined): OnnxTensor | undefined;
export function toNchw(rt: Runtime, t: OnnxTensor | undefined): OnnxTensor | undefined {
  if (!t || t.layout !== 'nhwc') return t;
  const n = numel(t.dims);
  if (sameBytes(t.dims)) return { dtype: t.dtype, dims: t.dims, data: t.ptr ? rt.arena.read(t.ptr, n) : t.data };
  const [b, c, h, w] = t.dims;
  const out = new Float32Array(n);
  withArena(rt, (a) => {
    const src = t.ptr || a.put(t.data as Float32Array), dst = a.alloc(n);
    rt.k.nhwc_to_nchw(dst, src, b, c, h, w);
    rt.arena.read(dst, n, out);
  });
  return { dtype: t.dtype, dims: t.dims, data: out };
}

/** `t` with its data in a JS array, in the layout it has (a resident value is copied out of the arena). */
export function toJs(rt: Runtime, t: OnnxTensor): OnnxTensor {
  return t.ptr ? { dtype: t.dtype, dims: t.dims, data: rt.arena.read(t.ptr, numel(t.dims)), layout: t.layout } : t;
}

/** Frees a resident value's block (after its last reader); other values are left alone. */
export function releaseResident(rt: Runtime, t: OnnxTensor | undefined): void {
  if (t?.ptr) {
    rt.arena.release(t.ptr);
    t.ptr = undefined;
  }
}

/** An arena block holding `t` (rank-4 float32, either layout, maybe resident) as NHWC; a resident block is not copied. */
export function putNhwc(a: ArenaScope, t: OnnxTensor): number {
  if (t.ptr) return t.ptr;
  const data = t.data as Float32Array;
  if (t.layout === 'nhwc' || sameBytes(t.dims)) return a.put(data);
  const [n, c, h, w] = t.dims;
  const src = a.put(data), dst = a.alloc(data.length);
  a.rt.k.nchw_to_nhwc(dst, src, n, c, h, w);
  return dst;
}

/** Writes `t` (rank-4 float32, either layout, maybe resident) into the block `dst` as NHWC (the accumulate operand of a conv). */
export function writeNhwc(a: ArenaScope, dst: number, t: OnnxTensor): void {
  if (t.ptr) {
    a.rt.arena.copy(dst, t.ptr, numel(t.dims));
    return;
  }
  const data = t.data as Float32Array;
  if (t.layout === 'nhwc' || sameBytes(t.dims)) {
    a.rt.arena.write(dst, data);
    return;
  }
  const [n, c, h, w] = t.dims;
  a.rt.k.nchw_to_nhwc(dst, a.put(data), n, c, h, w);
}

/**
 * The float32 output [n, c, h, w] in the NHWC block `src` (allocated from `a`): left there as a resident
 * value when `keep` (the node's readers all take NHWC: the session releases it), else read out as NCHW.
 * Call it last in the op: after `keep`, an exception would leak the block.
 */
export function readNhwc(a: ArenaScope, src: number, dims: number[], keep: boolean): OnnxTensor {
  if (keep) {
    a.keep(src);
    return { dtype: 'float32', dims, data: EMPTY, layout: 'nhwc', ptr: src };
  }
  const [n, c, h, w] = dims;
  const out = new Float32Array(n * c * h * w);
  if (sameBytes(dims)) {
    a.rt.arena.read(src, out.length, out);
    return { dtype: 'float32', dims, data: out };
  }
  const dst = a.alloc(out.length);
  a.rt.k.nhwc_to_nchw(dst, src, n, c, h, w);
  a.rt.arena.read(dst, out.length, out);
  return { dtype: 'float32', dims, data: out };
}

/**
 * Concat along channels (axis 1) of rank-4 float32 values in either layout, in NHWC: every input's channels
 * land at their offset in each output pixel (copy_channels); the output stays resident when `keep`. Undefined
 * when the inputs are not such values (the caller runs the Concat op on NCHW).
 */
export function concatChannelsNhwc(rt: Runtime, inputs: ReadonlyArray<OnnxTensor | undefined>, keep: boolean): OnnxTensor | undefined {
  const first = inputs[0];
  if (!first || first.dims.length !== 4 || inputs.length < 1) return undefined;
  const [n, , h, w] = first.dims;
  let total = 0;
  for (const t of inputs) {
    if (!t || t.dtype !== 'float32' || t.dims.length !== 4 || t.dims[0] !== n || t.dims[2] !== h || t.dims[3] !== w) return undefined;
    total += t.dims[1];
  }
  const dims = [n, total, h, w], pixels = n * h * w;
  if (!(numel(dims) <= 2 ** 31)) return undefined;
  return withArena(rt, (a) => {
    const y = a.alloc(numel(dims));
    let offset = 0;
    for (const t of inputs as OnnxTensor[]) {
      const c = t.dims[1];
      if (c > 0 && pixels > 0) rt.k.copy_channels(y + offset * 4, putNhwc(a, t), pixels, c, total, c);
      offset += c;
    }
    return readNhwc(a, y, dims, keep);
  });
}
