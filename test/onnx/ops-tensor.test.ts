/**
 * The ONNX data-movement ops (src/onnx/ops/tensor.ts and the tables it carries: layout.ts, index-ops.ts,
 * resize.ts, einsum.ts) beyond what the conformance suite covers: opset variants (attributes that became
 * inputs, num_outputs, allowzero, Shape start/end, Resize 10/18, Upsample 7/9), stranger-controlled sizes
 * and indices refused with E_ONNX naming the node, load-time refusals, and goldens written by PyTorch and
 * numpy (fixtures/tensor-ops.py -> fixtures/tensor-ops.json).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { TENSOR_OPS } from '../../src/onnx/ops/tensor.js';
import { Attrs, type OpNode } from '../../src/onnx/ops/types.js';
import type { Attribute } from '../../src/onnx/proto.js';
import type { OnnxDType, OnnxTensor } from '../../src/onnx/value.js';
import { loadOnnx } from '../../src/onnx/index.js';
import { onnxModel } from './build.js';

/** Why `got` differs from `want` (dims, dtype, or an element beyond 1e-5 abs + 1e-4 rel: float64 vs float32 rounding), or undefined. */
function mismatch(got: OnnxTensor, want: OnnxTensor): string | undefined {
  if (got.dtype !== want.dtype) return `dtype ${got.dtype}, want ${want.dtype}`;
  if (got.dims.join() !== want.dims.join()) return `dims [${got.dims}], want [${want.dims}]`;
  for (let i = 0; i < want.data.length; i++) {
    const a = Number(got.data[i]), b = Number(want.data[i]);
    if (!(Math.abs(a - b) <= 1e-5 + 1e-4 * Math.abs(b))) return `element ${i}: ${a}, want ${b}`;
  }
  return undefined;
}

type AttrValue = number | number[] | string | { f: number } | { fs: number[] } | OnnxTensor;

function attribute(name: string, v: AttrValue): Attribute {
  if (typeof v === 'number') return { name, type: 'int', i: v };
  if (typeof v === 'string') return { name, type: 'string', s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: 'ints', ints: v };
  if ('f' in v) return { name, type: 'float', f: v.f };
  if ('fs' in v) return { name, type: 'floats', floats: v.fs };
  return { name, type: 'tensor', t: v };
}

function node(op: string, opset: number, attrs: Record<string, AttrValue> = {}, outputs = 1): OpNode {
  const list = Object.entries(attrs).map(([k, v]) => attribute(k, v));
  return { name: `my_${op.toLowerCase()}`, opType: op, opset, attrs: new Attrs(list, op), inputs: [], outputs: Array.from({ length: outputs }, (_, i) => `y${i}`) };
}

function run(op: string, opset: number, inputs: Array<OnnxTensor | undefined>, attrs: Record<string, AttrValue> = {}, outputs = 1): OnnxTensor[] {
  const n = node(op, opset, attrs, outputs);
  const why = TENSOR_OPS[op].check?.(n);
  if (why) throw new Error(`check refused: ${why}`);
  return TENSOR_OPS[op].run(n, inputs, { rt: undefined as never, constant: [] });
}

const f32 = (dims: number[], data: number[]): OnnxTensor => ({ dtype: 'float32', dims, data: new Float32Array(data) });
const i64 = (dims: number[], data: Array<number | bigint>): OnnxTensor => ({ dtype: 'int64', dims, data: BigInt64Array.from(data, (v) => BigInt(v)) });
const i32 = (dims: number[], data: number[]): OnnxTensor => ({ dtype: 'int32', dims, data: new Int32Array(data) });
const iota = (n: number) => Array.from({ length: n }, (_, i) => i);
const values = (t: OnnxTensor) => Array.from(t.data as ArrayLike<number | bigint | string>, (v) => (typeof v === 'bigint' ? Number(v) : v));

interface Golden { dims: number[]; data: number[] }
const G = JSON.parse(readFileSync(new URL('./fixtures/tensor-ops.json', import.meta.url), 'utf8'));
const golden = (g: Golden, dtype: OnnxDType = 'float32'): OnnxTensor => {
  const data = dtype === 'int64' ? BigInt64Array.from(g.data, BigInt) : dtype === 'int32' ? new Int32Array(g.data) : new Float32Array(g.data);
  return { dtype, dims: g.dims, data };
};

describe('opset variants', () => {
  it('Squeeze/Unsqueeze take axes as an attribute before 13 and as an input from 13', () => {
    const x = f32([1, 3, 1], [1, 2, 3]);
    expect(run('Squeeze', 11, [x], { axes: [-1] })[0].dims).toEqual([1, 3]);
    expect(run('Squeeze', 13, [x, i64([1], [0])])[0].dims).toEqual([3, 1]);
    expect(run('Squeeze', 13, [x])[0].dims).toEqual([3]);
    expect(run('Unsqueeze', 11, [x], { axes: [0, -1] })[0].dims).toEqual([1, 1, 3, 1, 1]);
    expect(run('Unsqueeze', 13, [x, i64([2], [3, 1])])[0].dims).toEqual([1, 1, 3, 1, 1]);
    expect(() => run('Squeeze', 13, [x, i64([1], [1])])).toThrow(/Squeeze 'my_squeeze'.*axis 1.*not 1/);
  });

  it('Split: split attribute before 13, input from 13, num_outputs with an uneven last chunk at 18', () => {
    const x = f32([5, 2], iota(10));
    const parts = (ts: OnnxTensor[]) => ts.map((t) => [t.dims, values(t)]);
    expect(parts(run('Split', 11, [x], { split: [1, 4] }, 2))).toEqual([[[1, 2], [0, 1]], [[4, 2], [2, 3, 4, 5, 6, 7, 8, 9]]]);
    expect(parts(run('Split', 13, [x, i64([2], [3, 2])], {}, 2)).map((p) => p[0])).toEqual([[3, 2], [2, 2]]);
    expect(parts(run('Split', 18, [x], { num_outputs: 3 }, 3)).map((p) => p[0])).toEqual([[2, 2], [2, 2], [1, 2]]);
    expect(parts(run('Split', 13, [x], { axis: 1 }, 2))).toEqual([[[5, 1], [0, 2, 4, 6, 8]], [[5, 1], [1, 3, 5, 7, 9]]]);
    expect(() => run('Split', 13, [x, i64([2], [3, 3])], {}, 2)).toThrow(/E?split \[3, 3\] does not cut dim 5/);
  });

  it('Slice reads starts/ends/axes from attributes before opset 10', () => {
    const x = f32([3, 4], iota(12));
    const y = run('Slice', 9, [x], { starts: [1, -3], ends: [1000, -1], axes: [0, 1] })[0];
    expect(y.dims).toEqual([2, 2]);
    expect(values(y)).toEqual([5, 6, 9, 10]);
  });

  it('Pad: pads and value attributes before 11; pads, constant_value and axes inputs after', () => {
    const x = f32([2, 2], [1, 2, 3, 4]);
    expect(values(run('Pad', 2, [x], { pads: [0, 1, 0, 0], value: { f: 9 } })[0])).toEqual([9, 1, 2, 9, 3, 4]);
    expect(values(run('Pad', 13, [x, i64([4], [1, 0, 0, 0]), f32([], [5])])[0])).toEqual([5, 5, 1, 2, 3, 4]);
    const y = run('Pad', 18, [x, i64([2], [1, 2]), undefined, i64([1], [-1])], { mode: 'edge' })[0];
    expect(y.dims).toEqual([2, 5]);
    expect(values(y)).toEqual([1, 1, 2, 2, 2, 3, 3, 4, 4, 4]);
  });

  it('Reshape: 0 copies a dim, -1 infers; allowzero=1 (opset 14) makes 0 a real zero', () => {
    const x = f32([2, 3, 4], iota(24));
    expect(run('Reshape', 13, [x, i64([3], [0, -1, 2])])[0].dims).toEqual([2, 6, 2]);
    const empty = f32([0, 3], []);
    expect(run('Reshape', 14, [empty, i64([2], [3, 0])], { allowzero: 1 })[0].dims).toEqual([3, 0]);
    expect(() => run('Reshape', 14, [x, i64([2], [0, 5])], { allowzero: 1 })).toThrow(/Reshape 'my_reshape': cannot reshape \[2, 3, 4\]/);
    expect(() => run('Reshape', 13, [x, i64([2], [-1, -1])])).toThrow(/more than one -1/);
  });

  it('Shape takes start/end from opset 15 only', () => {
    const x = f32([2, 3, 4, 5], new Array(120).fill(0));
    expect(values(run('Shape', 15, [x], { start: 1, end: -1 })[0])).toEqual([3, 4]);
    expect(values(run('Shape', 15, [x], { start: -10, end: 10 })[0])).toEqual([2, 3, 4, 5]);
    expect(values(run('Shape', 13, [x], { start: 1 })[0])).toEqual([2, 3, 4, 5]);
  });

  it('TopK takes k as an attribute before 10; ties keep the lower index; smallest from 11', () => {
    const x = f32([5], [3, 1, 3, 2, 1]);
    const [v9, i9] = run('TopK', 9, [x], { k: 2 }, 2);
    expect([values(v9), values(i9)]).toEqual([[3, 3], [0, 2]]);
    const [v, i] = run('TopK', 11, [x, i64([1], [3])], { largest: 0 }, 2);
    expect([values(v), values(i)]).toEqual([[1, 1, 2], [1, 4, 3]]);
  });

  it('Dropout passes data through, with an all-true mask (bool from opset 10, the input type before)', () => {
    const x = f32([3], [1, -2, 3]);
    const [y, m] = run('Dropout', 13, [x, f32([], [0.3]), { dtype: 'bool', dims: [], data: new Uint8Array([0]) }], {}, 2);
    expect(values(y)).toEqual([1, -2, 3]);
    expect([m.dtype, values(m)]).toEqual(['bool', [1, 1, 1]]);
    expect(run('Dropout', 7, [x], { ratio: { f: 0.5 } }, 2)[1].dtype).toBe('float32');
    const training = { dtype: 'bool' as const, dims: [], data: new Uint8Array([1]) };
    expect(values(run('Dropout', 13, [x, f32([], [0]), training])[0])).toEqual([1, -2, 3]);
    expect(() => run('Dropout', 13, [x, f32([], [0.5]), training])).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED', message: expect.stringMatching(/'my_dropout'.*inference only/) }));
  });

  it('Resize opset 10 and Upsample 7/9 map asymmetrically; nearest floors up, ceils down', () => {
    const x = f32([1, 1, 2, 2], [1, 2, 3, 4]);
    const up = [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4];
    expect(values(run('Upsample', 7, [x], { scales: { fs: [1, 1, 2, 2] } })[0])).toEqual(up);
    expect(values(run('Upsample', 9, [x, f32([4], [1, 1, 2, 2])])[0])).toEqual(up);
    expect(values(run('Resize', 10, [x, f32([4], [1, 1, 2, 2])])[0])).toEqual(up);
    // linear, asymmetric: x_src = x / 2, clamped at the edge
    expect(values(run('Resize', 10, [f32([1, 4], [0, 10, 20, 30]), f32([2], [1, 2])], { mode: 'linear' })[0])).toEqual([0, 5, 10, 15, 20, 25, 30, 30]);
    // downsampling nearest takes the ceiling: 3 = floor(5 * 0.6) outputs read x_src = y / 0.6 -> 0, ceil(1.67), ceil(3.33)
    expect(values(run('Resize', 10, [f32([1, 5], [0, 1, 2, 3, 4]), f32([2], [1, 0.6])])[0])).toEqual([0, 2, 4]);
  });

  it('Resize 18: axes, keep_aspect_ratio_policy, and the same answer as full-rank scales', () => {
    const x = golden(G.resize_x);
    const full = run('Resize', 13, [x, undefined, f32([4], [1, 1, 1.2, 1.2])], { mode: 'linear' })[0];
    const axes = run('Resize', 18, [x, undefined, f32([2], [1.2, 1.2])], { mode: 'linear', axes: [2, 3] })[0];
    expect(mismatch(axes, full)).toBeUndefined();
    // sizes [6, 20] on 5 x 7: not_larger keeps scale min(6/5, 20/7) = 1.2 on both axes -> [6, 8]
    const nl = run('Resize', 18, [x, undefined, undefined, i64([2], [6, 20])], { mode: 'linear', axes: [-2, -1], keep_aspect_ratio_policy: 'not_larger' })[0];
    expect(nl.dims).toEqual([1, 2, 6, 8]);
    expect(mismatch(nl, full)).toBeUndefined();
    const ns = run('Resize', 18, [x, undefined, undefined, i64([2], [2, 7])], { mode: 'nearest', axes: [2, 3], keep_aspect_ratio_policy: 'not_smaller' })[0];
    expect(ns.dims).toEqual([1, 2, 5, 7]);
    expect(mismatch(ns, x)).toBeUndefined();
  });
});

describe('goldens from PyTorch and numpy (fixtures/tensor-ops.py)', () => {
  it('Resize linear/cubic/nearest with half_pixel, align_corners, asymmetric match torch.nn.functional.interpolate', () => {
    const x = golden(G.resize_x);
    for (const c of G.resize as Array<{ mode: string; coord: string; nearest: string | null; scales?: number[]; sizes?: number[]; y: Golden }>) {
      const attrs: Record<string, AttrValue> = { mode: c.mode, coordinate_transformation_mode: c.coord };
      if (c.nearest) attrs.nearest_mode = c.nearest;
      const how = c.scales ? [f32([4], [1, 1, ...c.scales])] : [undefined, i64([4], [1, 2, ...c.sizes!])];
      const y = run('Resize', 13, [x, undefined, ...how], attrs)[0];
      expect(mismatch(y, golden(c.y)), `${c.mode} ${c.coord} ${c.scales ?? c.sizes}`).toBeUndefined();
    }
  });

  it('Pad reflect/edge/wrap/constant with negative pads matches numpy.pad', () => {
    const x = golden(G.pad_x, 'int32');
    for (const c of G.pad as Array<{ mode: string; pads: number[]; y: Golden }>) {
      const y = run('Pad', 13, [x, i64([4], c.pads), c.mode === 'constant' ? i32([], [7]) : undefined], { mode: c.mode })[0];
      expect(mismatch(y, golden(c.y, 'int32')), `${c.mode} ${c.pads}`).toBeUndefined();
    }
  });

  it('Slice with negative steps and INT64_MIN/INT64_MAX bounds matches numpy slicing', () => {
    const x = golden(G.slice_x, 'int64');
    for (const c of G.slice as Array<{ starts: number[]; ends: Array<number>; axes: number[]; steps: number[]; y: Golden }>) {
      // JSON lost the exact int64 bounds: rebuild them as BigInt
      const big = (v: number) => (v >= 2 ** 63 ? 2n ** 63n - 1n : v <= -(2 ** 63) ? -(2n ** 63n) : BigInt(v));
      const t = (v: number[]) => ({ dtype: 'int64' as const, dims: [v.length], data: BigInt64Array.from(v, big) });
      const y = run('Slice', 13, [x, t(c.starts), t(c.ends), t(c.axes), t(c.steps)])[0];
      expect(mismatch(y, golden(c.y, 'int64'))).toBeUndefined();
    }
  });

  it('ScatterND and ScatterElements reductions (add, mul, max, min) match numpy ufunc.at with duplicate indices', () => {
    const x = golden(G.scatternd_x), idx = golden(G.scatternd_indices, 'int64'), upd = golden(G.scatternd_updates);
    for (const red of ['add', 'mul', 'max', 'min']) {
      const y = run('ScatterND', 18, [x, idx, upd], { reduction: red })[0];
      expect(mismatch(y, golden(G.scatternd[red])), red).toBeUndefined();
      // the same scatter as ScatterElements: every column gets its row index
      const rows = i64([3, 3], values(idx).flatMap((r) => [r, r, r]) as number[]);
      expect(mismatch(run('ScatterElements', 18, [x, rows, upd], { reduction: red })[0], golden(G.scatternd[red])), red).toBeUndefined();
    }
    expect(TENSOR_OPS.ScatterND.check!(node('ScatterND', 16, { reduction: 'max' }))).toMatch(/needs opset 18/);
    expect(TENSOR_OPS.ScatterElements.check!(node('ScatterElements', 13, { reduction: 'add' }))).toMatch(/needs opset 16/);
  });

  it('GatherND with batch_dims=1 and CumSum reverse+exclusive (int32) match numpy', () => {
    const y = run('GatherND', 13, [golden(G.gathernd_x), golden(G.gathernd_indices, 'int64')], { batch_dims: 1 })[0];
    expect(mismatch(y, golden(G.gathernd_y))).toBeUndefined();
    const c = run('CumSum', 14, [golden(G.cumsum_x, 'int32'), i32([], [1])], { reverse: 1, exclusive: 1 })[0];
    expect(mismatch(c, golden(G.cumsum_y, 'int32'))).toBeUndefined();
  });
});

describe('hand-derived', () => {
  it('moves strings, bools and float16 bits like any other dtype', () => {
    const s: OnnxTensor = { dtype: 'string', dims: [2, 2], data: ['a', 'b', 'c', 'd'] };
    expect(values(run('Transpose', 13, [s])[0])).toEqual(['a', 'c', 'b', 'd']);
    expect(values(run('Concat', 13, [s, s], { axis: 1 })[0])).toEqual(['a', 'b', 'a', 'b', 'c', 'd', 'c', 'd']);
    expect(values(run('Gather', 13, [s, i64([2], [-1, 0])], { axis: 1 })[0])).toEqual(['b', 'a', 'd', 'c']);
    const h: OnnxTensor = { dtype: 'float16', dims: [3], data: new Uint16Array([0x3c00, 0x4000, 0x4200]) };
    const p = run('Pad', 2, [h], { pads: [1, 0], value: { f: -2 } })[0];
    expect([p.dtype, values(p)]).toEqual(['float16', [0xc000, 0x3c00, 0x4000, 0x4200]]);
  });

  it('DepthToSpace DCR and CRD order the channels differently; SpaceToDepth inverts DCR', () => {
    const x = f32([1, 4, 1, 1], [0, 1, 2, 3]);
    expect(values(run('DepthToSpace', 13, [x], { blocksize: 2 })[0])).toEqual([0, 1, 2, 3]);
    const x8 = f32([1, 8, 1, 1], iota(8));
    // DCR: out channel c, block (i, j) reads channel (i * 2 + j) * 2 + c; CRD reads c * 4 + i * 2 + j
    expect(values(run('DepthToSpace', 13, [x8], { blocksize: 2, mode: 'DCR' })[0])).toEqual([0, 2, 4, 6, 1, 3, 5, 7]);
    expect(values(run('DepthToSpace', 13, [x8], { blocksize: 2, mode: 'CRD' })[0])).toEqual(iota(8));
    const img = f32([1, 2, 2, 4], iota(16));
    const back = run('DepthToSpace', 13, run('SpaceToDepth', 13, [img], { blocksize: 2 }), { blocksize: 2 })[0];
    expect(values(back)).toEqual(iota(16));
  });

  it('Einsum matmul and an implicit-output trace', () => {
    const a = f32([2, 3], iota(6)), b = f32([3, 2], iota(6));
    // [[0,1,2],[3,4,5]] @ [[0,1],[2,3],[4,5]] = [[10,13],[28,40]]
    expect(values(run('Einsum', 12, [a, b], { equation: 'ij,jk->ik' })[0])).toEqual([10, 13, 28, 40]);
    expect(values(run('Einsum', 12, [f32([2, 2], [1, 2, 3, 4])], { equation: 'ii' })[0])).toEqual([5]);
    expect(values(run('Einsum', 12, [f32([2, 2, 2], iota(8))], { equation: '...ii->...i' })[0])).toEqual([0, 3, 4, 7]);
  });

  it('OneHot, Compress, NonZero, Range, EyeLike, Trilu, ReverseSequence', () => {
    const oh = run('OneHot', 11, [i64([3], [0, -1, 5]), f32([], [3]), f32([2], [0, 1])], { axis: 0 })[0];
    expect([oh.dims, values(oh)]).toEqual([[3, 3], [1, 0, 0, 0, 0, 0, 0, 1, 0]]);
    const cond = { dtype: 'bool' as const, dims: [3], data: new Uint8Array([0, 1, 1]) };
    expect(values(run('Compress', 11, [f32([2, 3], iota(6)), cond], { axis: 1 })[0])).toEqual([1, 2, 4, 5]);
    expect(values(run('NonZero', 13, [f32([2, 2], [0, 1, 1, 0])])[0])).toEqual([0, 1, 1, 0]);
    expect(values(run('Range', 11, [i32([], [10]), i32([], [1]), i32([], [-3])])[0])).toEqual([10, 7, 4]);
    expect(values(run('EyeLike', 9, [f32([2, 3], iota(6))], { k: 1, dtype: 7 })[0])).toEqual([0, 1, 0, 0, 0, 1]);
    expect(values(run('Trilu', 14, [f32([2, 3], [1, 2, 3, 4, 5, 6]), i64([], [-1])], { upper: 0 })[0])).toEqual([0, 0, 0, 4, 0, 0]);
    const rs = run('ReverseSequence', 10, [f32([3, 2], [1, 2, 3, 4, 5, 6]), i64([2], [3, 1])], { time_axis: 0, batch_axis: 1 })[0];
    expect(values(rs)).toEqual([5, 2, 3, 4, 1, 6]);
  });
});

describe('stranger-controlled sizes and indices', () => {
  const x = f32([2, 3], iota(6));
  it('out-of-range indices are E_ONNX errors naming the node', () => {
    const onnx = (re: RegExp) => expect.objectContaining({ code: 'E_ONNX', message: expect.stringMatching(re) });
    expect(() => run('Gather', 13, [x, i64([1], [3])], { axis: 1 })).toThrow(onnx(/Gather 'my_gather': index 3 is out of range for a dim of 3/));
    expect(() => run('Gather', 13, [x, i64([1], [-4])], { axis: 1 })).toThrow(onnx(/index -4/));
    expect(() => run('GatherElements', 13, [x, i64([1, 1], [2])])).toThrow(onnx(/'my_gatherelements'.*index 2/));
    expect(() => run('ScatterElements', 13, [x, i64([1, 1], [9]), f32([1, 1], [0])])).toThrow(onnx(/index 9/));
    expect(() => run('GatherND', 13, [x, i64([1, 2], [0, 3])])).toThrow(onnx(/'my_gathernd': index 3 is out of range for axis 1/));
    expect(() => run('ScatterND', 13, [x, i64([1, 1], [-3]), f32([1, 3], [0, 0, 0])])).toThrow(onnx(/index -3/));
    expect(() => run('ReverseSequence', 10, [x, i64([3], [1, 1, 4])], { time_axis: 1, batch_axis: 0 })).toThrow(onnx(/sequence_lens has 3 entries/));
    expect(() => run('Transpose', 13, [x], { perm: [0, 0] })).toThrow(onnx(/repeat an axis/));
  });

  it('absurd sizes are refused before anything is allocated', () => {
    const big = (re: RegExp = /more than 2\^31/) => expect.objectContaining({ code: 'E_ONNX', message: expect.stringMatching(re) });
    expect(() => run('ConstantOfShape', 9, [i64([3], [1 << 20, 1 << 20, 4])])).toThrow(big(/ConstantOfShape 'my_constantofshape'.*more than 2\^31/));
    expect(() => run('ConstantOfShape', 9, [i64([2], [0, 2n ** 62n])])).toThrow(big());
    expect(() => run('ConstantOfShape', 9, [i64([1], [-1])])).toThrow(big(/not a size/));
    expect(() => run('Expand', 13, [x, i64([3], [1e6, 1e6, 3])])).toThrow(big());
    expect(() => run('Tile', 13, [x, i64([2], [1e5, 1e5])])).toThrow(big());
    expect(() => run('Tile', 13, [x, i64([2], [-1, 1])])).toThrow(big(/not a size/));
    expect(() => run('Range', 11, [f32([], [0]), f32([], [1e12]), f32([], [1])])).toThrow(big());
    expect(() => run('Range', 11, [f32([], [0]), f32([], [1]), f32([], [0])])).toThrow(big(/delta is 0/));
    expect(() => run('Pad', 13, [x, i64([4], [0, 2 ** 31, 0, 0])])).toThrow(big());
    expect(() => run('Pad', 13, [x, i64([4], [0, -5, 0, 0])])).toThrow(big(/below zero/));
    expect(() => run('Reshape', 13, [x, i64([2], [2 ** 40, -1])])).toThrow(big(/cannot reshape/));
    expect(() => run('Resize', 13, [x, undefined, undefined, i64([2], [1e6, 1e6])], { mode: 'nearest' })).toThrow(big());
    expect(() => run('OneHot', 11, [i64([2], [0, 1]), f32([], [2 ** 31]), f32([2], [0, 1])])).toThrow(big());
    expect(() => run('Einsum', 12, [f32([2000], new Array(2000).fill(0)), f32([2000], new Array(2000).fill(0)), f32([2000], new Array(2000).fill(0))], { equation: 'i,j,k->' })).toThrow(big());
  });

  it('unsupported attribute values are listed at load, with node names', async () => {
    const bytes = onnxModel({
      opset: 18,
      nodes: [
        { op: 'Resize', inputs: ['x', '', 's'], outputs: ['a'], name: 'aa_resize', attrs: { mode: 'linear', antialias: 1 } },
        { op: 'Pad', inputs: ['a', 'p'], outputs: ['b'], name: 'odd_pad', attrs: { mode: 'mirror' } },
        { op: 'Constant', inputs: [], outputs: ['c'], name: 'empty_constant' },
        { op: 'ScatterND', inputs: ['b', 'i', 'c'], outputs: ['y'], name: 'bad_scatter', attrs: { reduction: 'mean' } },
      ],
      inputs: [{ name: 'x', shape: [1, 1, 2, 2] }],
      outputs: [{ name: 'y' }],
      initializers: [{ name: 's', dims: [4], values: [1, 1, 2, 2] }, { name: 'p', dtype: 'int64', dims: [8], values: [0, 0, 0, 0, 0, 0, 0, 0] }, { name: 'i', dtype: 'int64', dims: [1, 1], values: [0] }],
    });
    const err = await loadOnnx(bytes).catch((e) => e);
    expect(err.code).toBe('E_UNSUPPORTED');
    expect(err.message).toMatch(/\(4\):/);
    expect(err.message).toMatch(/'aa_resize' \(Resize\): antialias=1/);
    expect(err.message).toMatch(/'odd_pad' \(Pad\): mode 'mirror'/);
    expect(err.message).toMatch(/'empty_constant' \(Constant\): needs exactly one of/);
    expect(err.message).toMatch(/'bad_scatter' \(ScatterND\): reduction 'mean'/);
  });

  it('outputs never share data with inputs (an initializer is reused on the next call)', () => {
    for (const [op, extra] of [['Identity', []], ['Reshape', [i64([1], [6])]], ['Flatten', []], ['Squeeze', []]] as const) {
      const y = run(op, 13, [x, ...extra])[0];
      (y.data as Float32Array)[0] = 99;
      expect((x.data as Float32Array)[0], op).toBe(0);
    }
  });
});
