/**
 * The ONNX math/reduce op tables (src/onnx/ops/math.ts, reduce.ts, broadcast.ts) on what the backend suite
 * does not cover: opset variants (Softmax 11 vs 13, Clip attributes vs inputs, Reduce* axes attribute vs
 * input), integer semantics (truncating Div, Mod's fmod, wrapping, int64 beyond 2^53), half rounding,
 * refusals that name the node, and the activations the suite leaves out (Gelu, Mish) against PyTorch.
 * The suite's opset-1/6 cases of these ops (which the session refuses for their opset) run here through the
 * op table directly, since their semantics have not changed since.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOnnx } from '../../src/onnx/index.js';
import { decodeModel, decodeTensor } from '../../src/onnx/proto.js';
import { ProtoReader } from '../../src/onnx/protobuf.js';
import { Attrs, type OpNode } from '../../src/onnx/ops/types.js';
import { MATH_OPS, erf } from '../../src/onnx/ops/math.js';
import { REDUCE_OPS } from '../../src/onnx/ops/reduce.js';
import { floatToHalf, floatToBfloat16 } from '../../src/onnx/ops/broadcast.js';
import { halfToFloat, type OnnxDType, type OnnxTensor } from '../../src/onnx/value.js';
import { WasmzooError } from '../../src/index.js';
import { onnxModel, type NodeSpec } from './build.js';

const OPS = { ...MATH_OPS, ...REDUCE_OPS };

const t = (dtype: OnnxDType, dims: number[], values: ArrayLike<number | bigint>): OnnxTensor => {
  const data = dtype === 'int64' ? BigInt64Array.from(Array.from(values, (v) => BigInt(v)))
    : dtype === 'uint64' ? BigUint64Array.from(Array.from(values, (v) => BigInt(v)))
      : { float32: Float32Array, float64: Float64Array, int32: Int32Array, int8: Int8Array, uint8: Uint8Array, bool: Uint8Array, int16: Int16Array, uint16: Uint16Array, uint32: Uint32Array }[dtype as 'float32']!.from(Array.from(values, Number));
  return { dtype, dims, data };
};

/** Run one node through a real session (model bytes written by build.ts); '' in `inputs` is an absent optional input. */
async function run1(op: string, inputs: Array<OnnxTensor | undefined>, opts: { attrs?: NodeSpec['attrs']; opset?: number; outputs?: number } = {}): Promise<OnnxTensor[]> {
  const names = inputs.map((x, i) => (x ? `x${i}` : ''));
  const outs = Array.from({ length: opts.outputs ?? 1 }, (_, i) => `y${i}`);
  const m = await loadOnnx(onnxModel({
    opset: opts.opset ?? 13,
    nodes: [{ op, inputs: names, outputs: outs, attrs: opts.attrs, name: `my_${op}` }],
    inputs: inputs.flatMap((x, i) => (x ? [{ name: `x${i}`, dtype: x.dtype }] : [])),
    outputs: outs.map((name) => ({ name })),
  }));
  const r = m.runTensors(Object.fromEntries(inputs.flatMap((x, i) => (x ? [[`x${i}`, x]] : []))));
  return outs.map((y) => r[y]);
}
const nums = (x: OnnxTensor) => Array.from(x.data as ArrayLike<number | bigint>, Number);

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol = 0) {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= atol + rtol * Math.abs(want[i]))) throw new Error(`element ${i}: ${got[i]}, want ${want[i]}`);
  }
}

/** Plain softmax of each row of length `len` taken with `stride` (no max shift: an independent formula). */
function softmaxOracle(x: number[], outer: number, len: number, inner: number): number[] {
  const y = new Array<number>(x.length);
  for (let o = 0; o < outer; o++) for (let k = 0; k < inner; k++) {
    let s = 0;
    for (let j = 0; j < len; j++) s += Math.exp(x[(o * len + j) * inner + k]);
    for (let j = 0; j < len; j++) y[(o * len + j) * inner + k] = Math.exp(x[(o * len + j) * inner + k]) / s;
  }
  return y;
}

describe('ONNX math ops: opset variants', () => {
  const x = Array.from({ length: 12 }, (_, i) => Math.sin(i * 1.7) * 3);
  it('Softmax flattens to 2-D at axis before opset 13 and uses one axis from 13', async () => {
    const [a] = await run1('Softmax', [t('float64', [2, 2, 3], x)], { opset: 11 });
    expectClose(a.data as Float64Array, softmaxOracle(x, 2, 6, 1), 1e-12);
    const [b] = await run1('Softmax', [t('float64', [2, 2, 3], x)], { opset: 13 });
    expectClose(b.data as Float64Array, softmaxOracle(x, 4, 3, 1), 1e-12);
    const [c] = await run1('Softmax', [t('float64', [2, 2, 3], x)], { opset: 13, attrs: { axis: 1 } });
    expectClose(c.data as Float64Array, softmaxOracle(x, 2, 2, 3), 1e-12);
    const [d] = await run1('LogSoftmax', [t('float64', [2, 2, 3], x)], { opset: 11, attrs: { axis: 2 } });
    expectClose(d.data as Float64Array, softmaxOracle(x, 4, 3, 1).map(Math.log), 1e-12);
    const [h] = await run1('Hardmax', [t('float32', [2, 3], [1, 5, 5, -1, -2, -3])], { opset: 11, attrs: { axis: 0 } });
    expect(nums(h)).toEqual([0, 1, 0, 0, 0, 0]); // one row of six: the first maximum
  });

  it('Clip takes min/max attributes before opset 11 and optional inputs from 11 (min > max gives max)', async () => {
    const x6 = t('float32', [6], [-3, -1, 0, 0.5, 2, 9]);
    expect(nums((await run1('Clip', [x6], { opset: 7, attrs: { min: { float: -1 }, max: { float: 1 } } }))[0])).toEqual([-1, -1, 0, 0.5, 1, 1]);
    expect(nums((await run1('Clip', [x6, undefined, t('float32', [], [0.25])], { opset: 13 }))[0])).toEqual([-3, -1, 0, 0.25, 0.25, 0.25]);
    expect(nums((await run1('Clip', [x6, t('float32', [], [2]), t('float32', [], [1])], { opset: 13 }))[0])).toEqual([1, 1, 1, 1, 1, 1]);
    const big = t('int64', [3], [-(2 ** 53) - 10, 0, 2 ** 53 + 10]);
    const [c] = await run1('Clip', [big, t('int64', [], [-5]), t('int64', [], [2 ** 53 + 2])]);
    expect(Array.from(c.data as BigInt64Array)).toEqual([-5n, 0n, 2n ** 53n + 2n]);
  });

  it('Reduce* read axes from the attribute or the input as the opset says; keepdims; noop_with_empty_axes', async () => {
    const x = t('float32', [2, 3], [1, 2, 3, 4, 5, 6]);
    const axes = t('int64', [1], [-1]);
    expect((await run1('ReduceSum', [x], { opset: 11, attrs: { axes: [1], keepdims: 0 } }))[0]).toMatchObject({ dims: [2], data: new Float32Array([6, 15]) });
    expect((await run1('ReduceSum', [x, axes], { opset: 13 }))[0]).toMatchObject({ dims: [2, 1], data: new Float32Array([6, 15]) });
    expect((await run1('ReduceMean', [x], { opset: 13, attrs: { axes: [0] } }))[0]).toMatchObject({ dims: [1, 3], data: new Float32Array([2.5, 3.5, 4.5]) });
    expect((await run1('ReduceMean', [x, axes], { opset: 18, attrs: { keepdims: 0 } }))[0]).toMatchObject({ dims: [2], data: new Float32Array([2, 5]) });
    expect((await run1('ReduceMax', [x], { opset: 18 }))[0]).toMatchObject({ dims: [1, 1], data: new Float32Array([6]) });
    expect((await run1('ReduceSum', [x, t('int64', [0], [])], { opset: 13, attrs: { noop_with_empty_axes: 1 } }))[0]).toMatchObject({ dims: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) });
    expect((await run1('ReduceSum', [x, t('int64', [0], [])], { opset: 13 }))[0]).toMatchObject({ dims: [1, 1], data: new Float32Array([21]) });
    // log-sum-exp shifts by the maximum: exp(1000) would overflow (reference: torch.logsumexp)
    const [l] = await run1('ReduceLogSumExp', [t('float64', [2, 3], [1000, 1001, 999, -5, 0, 5])], { attrs: { axes: [1], keepdims: 0 } });
    expectClose(l.data as Float64Array, [1001.4076059644444, 5.006760443547122], 1e-14);
    // int64 sums stay exact past 2^53; empty reductions give the identity
    const [s] = await run1('ReduceSum', [t('int64', [2], [2 ** 53, 1]), t('int64', [1], [0])]);
    expect(Array.from(s.data as BigInt64Array)).toEqual([2n ** 53n + 1n]);
    const [p] = await run1('ReduceProd', [t('float32', [2, 0], []), t('int64', [1], [1])], { opset: 18 });
    expect(p).toMatchObject({ dims: [2, 1], data: new Float32Array([1, 1]) });
  });

  it('ArgMax/ArgMin: axis, keepdims, select_last_index', async () => {
    const x = t('float32', [2, 3], [3, 7, 7, 1, 1, 0]);
    expect((await run1('ArgMax', [x], { attrs: { axis: 1 } }))[0]).toMatchObject({ dtype: 'int64', dims: [2, 1], data: new BigInt64Array([1n, 0n]) });
    expect((await run1('ArgMax', [x], { attrs: { axis: 1, select_last_index: 1, keepdims: 0 } }))[0]).toMatchObject({ dims: [2], data: new BigInt64Array([2n, 1n]) });
    expect((await run1('ArgMin', [x], { attrs: { axis: -2 } }))[0]).toMatchObject({ dims: [1, 3], data: new BigInt64Array([1n, 1n, 1n]) });
  });
});

describe('ONNX math ops: integer semantics', () => {
  it('Div truncates toward zero; Mod follows the divisor (fmod 0) or the dividend (fmod 1)', async () => {
    const a = [7, -7, 7, -7], b = [2, 2, -2, -2];
    for (const dtype of ['int32', 'int64', 'int8'] as const) {
      expect(nums((await run1('Div', [t(dtype, [4], a), t(dtype, [4], b)]))[0])).toEqual([3, -3, -3, 3]);
      expect(nums((await run1('Mod', [t(dtype, [4], a), t(dtype, [4], b)]))[0])).toEqual([1, 1, -1, -1]);
      expect(nums((await run1('Mod', [t(dtype, [4], a), t(dtype, [4], b)], { attrs: { fmod: 1 } }))[0])).toEqual([1, -1, 1, -1]);
    }
  });

  it('int32 products and sums wrap as in C; int64 stays exact past 2^53; Pow of integers is exact', async () => {
    const [m] = await run1('Mul', [t('int32', [2], [65536, 123456789]), t('int32', [2], [65536, 1000])]);
    expect(nums(m)).toEqual([0, (123456789 * 1000) | 0]);
    const [s] = await run1('Add', [t('int64', [2], [2 ** 53, -(2 ** 53)]), t('int64', [], [1])]);
    expect(Array.from(s.data as BigInt64Array)).toEqual([2n ** 53n + 1n, -(2n ** 53n) + 1n]);
    const [p] = await run1('Pow', [t('int64', [2], [3, -2]), t('int64', [2], [39, 61])]);
    expect(Array.from(p.data as BigInt64Array)).toEqual([3n ** 39n, -(2n ** 61n)]);
    const [q] = await run1('Pow', [t('int32', [2], [2, 5]), t('float32', [2], [0.5, 2])]); // base dtype: truncated
    expect(q).toMatchObject({ dtype: 'int32', data: new Int32Array([1, 25]) });
    const [u] = await run1('Sub', [t('uint8', [2], [3, 250]), t('uint8', [2], [5, 10])]);
    expect(nums(u)).toEqual([254, 240]);
  });

  it('BitShift on uint64 and shifts past the width', async () => {
    const [l] = await run1('BitShift', [t('uint64', [3], [1, 3, 5]), t('uint64', [3], [63, 62, 64])], { attrs: { direction: 'LEFT' } });
    expect(Array.from(l.data as BigUint64Array)).toEqual([2n ** 63n, 2n ** 63n + 2n ** 62n, 0n]);
    const [r] = await run1('BitShift', [t('uint32', [2], [0xffffffff, 8]), t('uint32', [2], [4, 40])], { attrs: { direction: 'RIGHT' } });
    expect(nums(r)).toEqual([0x0fffffff, 0]);
  });

  it('Cast between ints, floats, bool and strings', async () => {
    const x = t('float32', [5], [-2.7, -0.5, 0, 1.5, NaN]);
    expect(nums((await run1('Cast', [x], { attrs: { to: 6 } }))[0])).toEqual([-2, 0, 0, 1, 0]); // int32, toward zero
    expect(nums((await run1('Cast', [x], { attrs: { to: 9 } }))[0])).toEqual([1, 1, 0, 1, 1]); // bool: NaN is true
    const [s] = await run1('Cast', [t('float32', [3], [0.1, 1e10, -3])], { attrs: { to: 8 } });
    expect(s.data).toEqual(['0.1', '10000000000', '-3']);
    const [i] = await run1('Cast', [t('int64', [2], [2n ** 53n + 1n, -1n])], { attrs: { to: 12 } }); // uint32 wraps
    expect(nums(i)).toEqual([1, 2 ** 32 - 1]);
  });
});

describe('ONNX math ops: float16 and special functions', () => {
  it('rounds to half once, to nearest even (bits from torch.tensor(x, dtype=float64).half())', () => {
    const xs = [0.1, 1 / 3, -2.5, 65504, 70000, 6e-8, 1e-5, -0];
    const want = [11878, 13653, -16128, 31743, 31744, 1, 168, -32768].map((b) => b & 0xffff);
    expect(xs.map(floatToHalf)).toEqual(want);
    expect(floatToHalf(65519.99)).toBe(0x7bff);
    expect(floatToHalf(65520)).toBe(0x7c00);
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // a tie goes to the even mantissa
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    for (let b = 0; b < 0x7c00; b += 7) expect(floatToHalf(halfToFloat(b))).toBe(b);
    expect(floatToBfloat16(1 + 2 ** -8)).toBe(0x3f80);
    expect(floatToBfloat16(1 + 3 * 2 ** -8)).toBe(0x3f82);
  });

  it('float16 arithmetic decodes, computes and rounds back', async () => {
    const h = (xs: number[]) => ({ dtype: 'float16' as const, dims: [xs.length], data: Uint16Array.from(xs, floatToHalf) });
    const [y] = await run1('Add', [h([1, 0.1, 65504, -3]), h([2 ** -11, 0.2, 32, 3])]);
    expect(Array.from(y.data as Uint16Array)).toEqual([1, 0.1 + 0.2, 65504 + 32, 0].map((v, i) => (i === 1 ? floatToHalf(halfToFloat(floatToHalf(0.1)) + halfToFloat(floatToHalf(0.2))) : floatToHalf(v))));
  });

  // torch.erf / torch.nn.functional.* in float64 on x = [-4, -1.5, -0.3, 0, 0.25, 1, 2.5, 6]
  const X = [-4, -1.5, -0.3, 0, 0.25, 1, 2.5, 6];
  const TORCH: Record<string, { attrs?: NodeSpec['attrs']; opset?: number; rtol?: number; y: number[] }> = {
    Gelu: { opset: 18, y: [-0.00012668496733247991, -0.10021080190328704, -0.1146265733433142, 0, 0.14967658142073093, 0.841344746068543, 2.4844758366855597, 5.999999994080474] },
    Mish: { opset: 18, y: [-0.07259174079202535, -0.2980997421668068, -0.15113317713833455, 0, 0.1695724096638176, 0.8650983882673103, 2.471392304557881, 5.999926634065252] },
    // ONNX's default alpha/gamma are the float32 roundings of torch's constants: 3e-9 apart (relative)
    Selu: { rtol: 1e-7, y: [-1.7258986281898945, -1.3658143533672527, -0.45566731537912203, 0, 0.2626752468388701, 1.0507009873554805, 2.626752468388701, 6.304205924132883] },
    Elu: { attrs: { alpha: { float: 0.5 } }, y: [-0.4908421805556329, -0.3884349199257851, -0.12959088965914106, 0, 0.25, 1, 2.5, 6] },
    Celu: { attrs: { alpha: { float: 2 } }, y: [-1.7293294335267746, -1.0552668945179706, -0.2785840471498844, 0, 0.25, 1, 2.5, 6] },
    Softplus: { y: [0.018149927917809738, 0.2014132779827524, 0.5543552444685271, 0.6931471805599453, 0.8259394198788436, 1.3132616875182228, 2.5788897342925496, 6.00247568513773] },
    Softsign: { y: [-0.8, -0.6, -0.23076923076923075, 0, 0.2, 0.5, 0.7142857142857143, 0.8571428571428571] },
    HardSwish: { opset: 14, y: [0, -0.375, -0.135, 0, 0.13541666666666666, 0.6666666666666666, 2.2916666666666665, 6] },
  };
  for (const [op, c] of Object.entries(TORCH)) {
    it(`${op} matches PyTorch in float64`, async () => {
      const [y] = await run1(op, [t('float64', [8], X)], { attrs: c.attrs, opset: c.opset });
      expectClose(y.data as Float64Array, c.y, c.rtol ?? 1e-12, 1e-15);
    });
  }
  it('Gelu approximate=tanh matches PyTorch', async () => {
    const [y] = await run1('Gelu', [t('float64', [8], X)], { opset: 18, attrs: { approximate: 'tanh' } });
    expectClose(y.data as Float64Array, [-7.024594819227126e-05, -0.10042842301976707, -0.11462907645724074, 0, 0.149675350701685, 0.8411919906082768, 2.484915733910001, 5.9999999999156035], 1e-12, 1e-15);
  });
  it('erf is accurate to double precision across its ranges (torch.erf)', () => {
    const xs = [-3.2, -0.7, 1e-6, 0.5, 1, 2, 3, 4.5];
    const want = [-0.9999939742388483, -0.6778011938374184, 1.1283791670951364e-06, 0.5204998778130465, 0.8427007929497149, 0.9953222650189527, 0.9999779095030014, 0.9999999998033839];
    expectClose(xs.map(erf), want, 1e-14);
  });
});

describe('ONNX math ops: refusals name the node', () => {
  it('check lists unsupported attribute values at load, with node names', async () => {
    const bytes = onnxModel({
      opset: 13,
      nodes: [
        { op: 'Cast', inputs: ['x'], outputs: ['a'], name: 'to_complex', attrs: { to: 14 } },
        { op: 'Mod', inputs: ['x', 'x'], outputs: ['b'], name: 'bad_mod', attrs: { fmod: 2 } },
        { op: 'BitShift', inputs: ['x', 'x'], outputs: ['c'], name: 'sideways', attrs: { direction: 'UP' } },
        { op: 'ReduceSum', inputs: ['x'], outputs: ['d'], name: 'old_axes', attrs: { axes: [0] } },
        { op: 'ReduceMax', inputs: ['x', 'x'], outputs: ['e'], name: 'new_axes' },
        { op: 'LeakyRelu', inputs: ['x'], outputs: ['f'], name: 'int_alpha', attrs: { alpha: 2 } },
      ],
      inputs: [{ name: 'x', shape: [2] }], outputs: ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => ({ name })),
    });
    const err = await loadOnnx(bytes).catch((e) => e);
    expect(err.code).toBe('E_UNSUPPORTED');
    expect(err.message).toMatch(/\(6\):/);
    expect(err.message).toMatch(/'to_complex' \(Cast\): 'to' = 14/);
    expect(err.message).toMatch(/'bad_mod' \(Mod\): fmod 2/);
    expect(err.message).toMatch(/'sideways' \(BitShift\): direction 'UP'/);
    expect(err.message).toMatch(/'old_axes' \(ReduceSum\): opset 13 takes axes as an input/);
    expect(err.message).toMatch(/'new_axes' \(ReduceMax\): opset 13 takes axes as an attribute/);
    expect(err.message).toMatch(/'int_alpha' \(LeakyRelu\): .*attribute 'alpha' is int, expected float/);
  });

  it('run-time errors name the node: shapes that do not broadcast, mixed dtypes, bad axes', async () => {
    await expect(run1('Add', [t('float32', [2, 3], [1, 2, 3, 4, 5, 6]), t('float32', [2], [1, 2])])).rejects.toMatchObject({
      code: 'E_SHAPE', message: expect.stringMatching(/Add 'my_Add': shapes \[2, 3\], \[2\] do not broadcast/),
    });
    await expect(run1('Mul', [t('float32', [1], [1]), t('int32', [1], [1])])).rejects.toThrow(/Mul 'my_Mul': inputs must share a dtype: got float32, int32/);
    await expect(run1('Softmax', [t('float32', [2], [1, 2])], { attrs: { axis: 3 } })).rejects.toThrow(/Softmax 'my_Softmax': axis 3 is out of range for rank 1/);
    await expect(run1('ReduceSum', [t('float32', [2], [1, 2]), t('int64', [2], [0, -1])])).rejects.toThrow(/ReduceSum 'my_ReduceSum': axes \[0, -1\] repeat an axis/);
  });
});

// ---- the suite's cases of these ops at opsets the session refuses (1, 6): run node by node through the table

const ROOT = process.env.ONNX_TESTDATA ?? '/usr/share/libonnx-testdata/data';
const readPb = (p: string) => {
  const b = readFileSync(p);
  return decodeTensor(new ProtoReader(b, 0, b.length, 0, p)).tensor;
};

describe.skipIf(!existsSync(ROOT))('ONNX math ops: the suite\'s opset-1/6 cases', () => {
  it('pass through the op table (semantics unchanged since), or are refused for legacy broadcasting', () => {
    const ran: string[] = [], failed: string[] = [], refused: string[] = [];
    for (const suite of ['node', 'pytorch-converted', 'pytorch-operator', 'simple']) {
      for (const name of readdirSync(join(ROOT, suite)).sort()) {
        const dir = join(ROOT, suite, name);
        if (!existsSync(join(dir, 'model.onnx'))) continue;
        const m = decodeModel(readFileSync(join(dir, 'model.onnx')));
        const opset = m.opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 1;
        const nodes = m.graph.nodes;
        if (opset >= 7 || !nodes.length || !nodes.every((n) => n.opType in OPS)) continue;
        const opNodes: OpNode[] = nodes.map((n, i) => ({ name: n.name || `#${i}`, opType: n.opType, opset, attrs: new Attrs(n.attributes, n.opType), inputs: n.inputs, outputs: n.outputs }));
        // before opset 7 PRelu broadcast its slope by channel and Add & co. had a `broadcast` attribute: refused
        const legacy = opNodes.map((n) => OPS[n.opType].check?.(n)).find((why) => why);
        if (legacy) {
          expect(legacy).toMatch(/opset \d's legacy broadcasting is not supported/);
          refused.push(`${suite}/${name}`);
          continue;
        }
        for (const set of readdirSync(dir).filter((d) => d.startsWith('test_data_set'))) {
          const vals = new Map<string, OnnxTensor>(m.graph.initializerNames.map((k, i) => [k, m.graph.initializers[i]]));
          const ins = m.graph.inputs.filter((v) => !vals.has(v.name));
          ins.forEach((v, i) => vals.set(v.name, readPb(join(dir, set, `input_${i}.pb`))));
          for (const node of opNodes) {
            const why = OPS[node.opType].check?.(node);
            if (why) throw new Error(`${suite}/${name}: ${why}`);
            const outs = OPS[node.opType].run(node, node.inputs.map((x) => vals.get(x)), undefined as never);
            node.outputs.forEach((y, j) => vals.set(y, outs[j]));
          }
          m.graph.outputs.forEach((o, i) => {
            const want = readPb(join(dir, set, `output_${i}.pb`)), got = vals.get(o.name)!;
            const ok = got.dtype === want.dtype && got.dims.join() === want.dims.join() &&
              Array.from(want.data as ArrayLike<number>, Number).every((w, k) => {
                const g = Number((got.data as ArrayLike<number>)[k]);
                return Number.isNaN(w) ? Number.isNaN(g) : Math.abs(g - w) <= 1e-7 + 1e-3 * Math.abs(w);
              });
            if (!ok) failed.push(`${suite}/${name}/${set}`);
          });
        }
        ran.push(`${suite}/${name}`);
      }
    }
    expect(failed).toEqual([]);
    expect(ran.length).toBeGreaterThanOrEqual(40); // Elu, Selu, HardSigmoid, Softplus, Softsign, Not, Softmax-6 (flattening), Clip-6 ...
    expect(refused.length).toBeGreaterThanOrEqual(10); // PReLU-6, Add-6 with broadcast=1
  });
});

describe('ONNX math ops: strangers\' inputs', () => {
  it('every op on every dtype and arity gives a tensor or a WasmzooError, never a TypeError/RangeError', () => {
    const dtypes: OnnxDType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int8', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'bool', 'string'];
    const make = (dtype: OnnxDType, dims: number[]): OnnxTensor => {
      const n = dims.reduce((a, b) => a * b, 1), vals = Array.from({ length: n }, (_, i) => [-3, 0, 2, 7, -1, 100][i % 6]);
      if (dtype === 'string') return { dtype, dims, data: vals.map(String) };
      if (dtype === 'float16' || dtype === 'bfloat16') return { dtype, dims, data: Uint16Array.from(vals, (v) => floatToHalf(v)) };
      if (dtype === 'uint64') return { dtype, dims, data: BigUint64Array.from(vals, (v) => BigInt(Math.abs(v))) };
      return t(dtype, dims, dtype === 'bool' ? vals.map((v) => +(v > 0)) : vals);
    };
    let results = 0;
    for (const [op, spec] of Object.entries(OPS)) {
      for (const dtype of dtypes) {
        for (const [opset, shapes] of [7, 13, 18].flatMap((v) => [[[2, 3]], [[2, 3], [3]], [[2, 3], [1, 3], [2, 1]], [[0, 3], [3]], [[]]].map((s) => [v, s] as const))) {
          const node: OpNode = { name: 'n', opType: op, opset, attrs: new Attrs([], op), inputs: shapes.map((_, i) => `x${i}`), outputs: ['y'] };
          if (spec.check?.(node)) continue;
          try {
            const outs = spec.run(node, shapes.map((d) => make(dtype, d)), undefined as never);
            for (const y of outs) expect(y.data.length).toBe(y.dims.reduce((a, b) => a * b, 1));
            results++;
          } catch (e) {
            if (!(e instanceof WasmzooError)) throw new Error(`${op}-${opset} on ${dtype} ${JSON.stringify(shapes)}: ${(e as Error).stack}`);
          }
        }
      }
    }
    expect(results).toBeGreaterThan(3000);
  });
});
