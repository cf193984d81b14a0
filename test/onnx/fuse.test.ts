/**
 * The session's fusion and layout passes (src/onnx/fuse.ts) on small graphs written by test/onnx/build.ts:
 * every graph runs fused (the default) and with { fuse: false } (each node as in the file, NCHW between
 * ops), and the outputs must agree; the node counts show what was fused. One residual block is also checked
 * against a float64 loop written here. Graphs where fusing would be wrong (a second reader of the conv's
 * output, the conv output being a graph output) must not fuse; run-time inputs the kernel path does not take
 * (float64, a broadcasting Add) fall back to the original nodes, with their error messages.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadOnnx, type OnnxModel, type OnnxTensor } from '../../src/onnx/index.js';
import { activation, init, runtime, tensor, WasmzooError } from '../../src/index.js';
import { onnxModel, type ModelSpec, type NodeSpec, type TensorSpec } from './build.js';
import { fuseNodes, planLayouts } from '../../src/onnx/fuse.js';
import { Attrs, type OpNode } from '../../src/onnx/ops/types.js';

beforeAll(async () => {
  await init({ threads: 1 });
});

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}
const numel = (dims: number[]) => dims.reduce((a, b) => a * b, 1);
const init32 = (name: string, dims: number[], seed: number, scale = 0.3): TensorSpec => ({ name, dims, values: values(numel(dims), seed).map((v) => v * scale) });
const f32 = (dims: number[], seed: number): OnnxTensor => ({ dtype: 'float32', dims, data: new Float32Array(values(numel(dims), seed)) });

async function both(spec: ModelSpec): Promise<{ fused: OnnxModel; plain: OnnxModel }> {
  const bytes = onnxModel(spec);
  return { fused: await loadOnnx(bytes), plain: await loadOnnx(bytes, { fuse: false }) };
}

/** Runs both models on `feeds` and expects every output to agree within `tol` (relative to the largest magnitude). */
function agree(m: { fused: OnnxModel; plain: OnnxModel }, feeds: Record<string, OnnxTensor>, tol = 1e-5): Record<string, OnnxTensor> {
  const a = m.fused.runTensors(feeds), b = m.plain.runTensors(feeds);
  for (const [name, y] of Object.entries(b)) {
    const x = a[name];
    expect(x.layout, `${name} comes back NCHW`).toBeUndefined();
    expect(x.dims).toEqual(y.dims);
    expect(x.dtype).toBe(y.dtype);
    const xd = x.data as Float32Array, yd = y.data as Float32Array;
    let scale = 1e-6, worst = 0;
    for (let i = 0; i < yd.length; i++) scale = Math.max(scale, Math.abs(yd[i]));
    for (let i = 0; i < yd.length; i++) worst = Math.max(worst, Math.abs(xd[i] - yd[i]));
    expect(worst / scale, `output ${name}: max |fused - unfused| ${worst} at scale ${scale}`).toBeLessThan(tol);
  }
  return a;
}

const conv = (name: string, x: string, w: string, b: string | undefined, y: string, attrs: NodeSpec['attrs'] = { pads: [1, 1, 1, 1] }): NodeSpec =>
  ({ op: 'Conv', name, inputs: b ? [x, w, b] : [x, w], outputs: [y], attrs });

describe('Conv + activation', () => {
  for (const [op, attrs] of [['Relu', {}], ['LeakyRelu', { alpha: { float: 0.1 } }], ['Sigmoid', {}], ['Tanh', {}]] as const) {
    it(`Conv -> ${op} is one node and matches the unfused graph (3x3 Winograd, strided im2col, 1x1, depthwise)`, async () => {
      const shapes: Array<{ w: number[]; attrs: NodeSpec['attrs'] }> = [
        { w: [16, 8, 3, 3], attrs: { pads: [1, 1, 1, 1] } }, // Winograd
        { w: [12, 8, 3, 3], attrs: { pads: [1, 1, 1, 1], strides: [2, 2] } }, // im2col
        { w: [6, 8, 1, 1], attrs: {} }, // 1x1 GEMM
        { w: [8, 1, 3, 3], attrs: { pads: [1, 1, 1, 1], group: 8 } }, // depthwise
      ];
      for (const [i, s] of shapes.entries()) {
        const m = await both({
          nodes: [conv('conv', 'x', 'w', 'b', 'c', s.attrs), { op, name: 'act', inputs: ['c'], outputs: ['y'], attrs }],
          inputs: [{ name: 'x', shape: ['n', 8, 9, 9] }],
          outputs: [{ name: 'y' }],
          initializers: [init32('w', s.w, 10 + i), init32('b', [s.w[0]], 20 + i)],
        });
        expect(m.fused.runtimeNodes).toBe(1);
        expect(m.plain.runtimeNodes).toBe(2);
        // the batch may change between calls
        agree(m, { x: f32([1, 8, 9, 9], 1) });
        agree(m, { x: f32([2, 8, 9, 9], 2) });
      }
    });
  }

  it('Conv -> Clip(0, cap) is the kernels\' relu_cap (ReLU6), Clip(0) relu; other bounds stay apart', async () => {
    const scalar = (name: string, v: number): TensorSpec => ({ name, dims: [], values: [v] });
    const cases: Array<{ clip: NodeSpec; opset?: number; fused: boolean; inputs?: Array<{ name: string; shape: number[] }> }> = [
      { clip: { op: 'Clip', inputs: ['c', 'zero', 'six'], outputs: ['y'] }, fused: true },
      { clip: { op: 'Clip', inputs: ['c', 'zero'], outputs: ['y'] }, fused: true },
      { clip: { op: 'Clip', inputs: ['c', 'zero', ''], outputs: ['y'] }, fused: true },
      { clip: { op: 'Clip', inputs: ['c'], outputs: ['y'], attrs: { min: { float: 0 }, max: { float: 6 } } }, opset: 6, fused: true },
      { clip: { op: 'Clip', inputs: ['c', 'minus1', 'six'], outputs: ['y'] }, fused: false },
      { clip: { op: 'Clip', inputs: ['c', '', 'six'], outputs: ['y'] }, fused: false },
      { clip: { op: 'Clip', inputs: ['c', 'zero', 'cap'], outputs: ['y'] }, fused: false, inputs: [{ name: 'cap', shape: [] }] },
    ];
    for (const c of cases) {
      const m = await both({
        opset: c.opset,
        nodes: [conv('conv', 'x', 'w', 'b', 'c'), c.clip],
        inputs: [{ name: 'x', shape: [1, 8, 6, 6] }, ...(c.inputs ?? [])],
        outputs: [{ name: 'y' }],
        initializers: [init32('w', [8, 8, 3, 3], 171, 1), init32('b', [8], 172), scalar('zero', 0), scalar('six', 0.5), scalar('minus1', -1)],
      });
      expect(m.fused.runtimeNodes, JSON.stringify(c.clip)).toBe(c.fused ? 1 : 2);
      const feeds: Record<string, OnnxTensor> = { x: f32([1, 8, 6, 6], 28) };
      if (c.inputs) feeds.cap = { dtype: 'float32', dims: [], data: new Float32Array([0.5]) };
      const y = agree(m, feeds).y.data as Float32Array;
      // the cap is reached and 0 too, so a missing clamp would show
      if (c.clip.inputs[1] === 'zero' && c.clip.inputs[2] === 'six') expect(y.some((v) => v === 0.5) && y.some((v) => v === 0) && y.every((v) => v <= 0.5)).toBe(true);
    }
    // and after a residual Add (MobileNetV2 has none, but the pattern is the same)
    const m = await both({
      nodes: [conv('conv', 'x', 'w', 'b', 'c'), { op: 'Add', inputs: ['x', 'c'], outputs: ['s'] }, { op: 'Clip', inputs: ['s', 'zero', 'six'], outputs: ['y'] }],
      inputs: [{ name: 'x', shape: [1, 8, 6, 6] }],
      outputs: [{ name: 'y' }],
      initializers: [init32('w', [8, 8, 3, 3], 173, 1), init32('b', [8], 174), scalar('zero', 0), scalar('six', 0.5)],
    });
    expect(m.fused.runtimeNodes).toBe(1);
    agree(m, { x: f32([1, 8, 6, 6], 29) });
  });

  it('relu_cap on the kernels: min(max(x, 0), cap) forward (NaN kept), dy where 0 < y < cap backward', () => {
    const rt = runtime(), k = rt.k, n = 37; // a SIMD body and a scalar tail
    const x = Float32Array.from(values(n, 30), (v) => v * 10);
    x[3] = NaN;
    x[4] = 6;
    const cap = activation('relu_cap', 6);
    const p = rt.arena.alloc(n * 4), d = rt.arena.alloc(n * 4);
    try {
      rt.arena.write(p, x);
      k.activation(p, p, n, cap.code, cap.alpha);
      const y = rt.arena.read(p, n);
      x.forEach((v, i) => (Number.isNaN(v) ? expect(Number.isNaN(y[i])).toBe(true) : expect(y[i]).toBe(Math.min(Math.max(v, 0), 6))));
      rt.arena.write(d, new Float32Array(n).fill(2));
      k.act_backward(d, d, p, n, cap.code, cap.alpha);
      const dx = rt.arena.read(d, n);
      y.forEach((v, i) => expect(dx[i]).toBe(v > 0 && v < 6 ? 2 : 0));
    } finally {
      rt.arena.release(p);
      rt.arena.release(d);
    }
    expect(() => activation('relu_cap', Infinity)).toThrow(WasmzooError);
  });

  it('a 1-D conv fuses too (height 1 on the kernels, no layout)', async () => {
    const m = await both({
      nodes: [conv('conv', 'x', 'w', 'b', 'c', { pads: [1, 1] }), { op: 'Relu', inputs: ['c'], outputs: ['y'] }],
      inputs: [{ name: 'x', shape: [1, 4, 10] }],
      outputs: [{ name: 'y' }],
      initializers: [init32('w', [5, 4, 3], 3), init32('b', [5], 4)],
    });
    expect(m.fused.runtimeNodes).toBe(1);
    agree(m, { x: f32([1, 4, 10], 5) });
  });
});

/** out = relu(conv(x, w, b, pad 1) + r) in f64, NCHW: the oracle for the residual block. */
function residualOracle(x: OnnxTensor, w: TensorSpec, b: TensorSpec, r: Float32Array): Float64Array {
  const [n, c, h, wd] = x.dims, [oc, , kh, kw] = w.dims, xs = x.data as Float32Array, ws = w.values!, bs = b.values!;
  const out = new Float64Array(n * oc * h * wd);
  for (let i = 0; i < n; i++) for (let o = 0; o < oc; o++) for (let y = 0; y < h; y++) for (let z = 0; z < wd; z++) {
    let acc = Math.fround(bs[o]);
    for (let ci = 0; ci < c; ci++) for (let a = 0; a < kh; a++) for (let e = 0; e < kw; e++) {
      const yi = y + a - 1, zi = z + e - 1;
      if (yi >= 0 && yi < h && zi >= 0 && zi < wd) acc += xs[((i * c + ci) * h + yi) * wd + zi] * Math.fround(ws[((o * c + ci) * kh + a) * kw + e]);
    }
    const at = ((i * oc + o) * h + y) * wd + z;
    out[at] = Math.max(0, acc + r[at]);
  }
  return out;
}

describe('Conv + Add (+ Relu): the residual accumulates in the kernel', () => {
  // a ResNet basic block: conv1 -> relu -> conv2, + x, relu
  const block = (addInputs: [string, string]): ModelSpec => ({
    nodes: [
      conv('conv1', 'x', 'w1', 'b1', 'c1'), { op: 'Relu', name: 'relu1', inputs: ['c1'], outputs: ['r1'] },
      conv('conv2', 'r1', 'w2', 'b2', 'c2'), { op: 'Add', name: 'add', inputs: addInputs, outputs: ['s'] },
      { op: 'Relu', name: 'relu2', inputs: ['s'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', shape: ['n', 8, 7, 7] }],
    outputs: [{ name: 'y' }],
    initializers: [init32('w1', [8, 8, 3, 3], 31), init32('b1', [8], 32), init32('w2', [8, 8, 3, 3], 33), init32('b2', [8], 34)],
  });

  it('a basic block is two nodes, either Add operand order, and matches the unfused graph and a float64 loop', async () => {
    for (const order of [['c2', 'x'], ['x', 'c2']] as Array<[string, string]>) {
      const spec = block(order);
      const m = await both(spec);
      expect(m.fused.runtimeNodes).toBe(2);
      expect(m.plain.runtimeNodes).toBe(5);
      const x = f32([2, 8, 7, 7], 7);
      const y = agree(m, { x }).y.data as Float32Array;
      // the oracle: conv2 over the unfused graph's relu1 output (so only the fused block is under test)
      const mid = await loadOnnx(onnxModel({ ...spec, nodes: spec.nodes.slice(0, 2), outputs: [{ name: 'r1' }] }), { fuse: false });
      const r1 = mid.runTensors({ x }).r1;
      const want = residualOracle(r1, spec.initializers![2], spec.initializers![3], x.data as Float32Array);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(y[i] - want[i]));
      expect(worst).toBeLessThan(1e-5);
    }
  });

  it('a downsampling block (both Add operands are convs: 3x3 stride 2 and the 1x1 stride-2 shortcut)', async () => {
    const m = await both({
      nodes: [
        conv('conv1', 'x', 'w1', 'b1', 'c1', { pads: [1, 1, 1, 1], strides: [2, 2] }), { op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
        conv('conv2', 'r1', 'w2', 'b2', 'c2'),
        conv('down', 'x', 'wd', 'bd', 'd', { strides: [2, 2] }),
        { op: 'Add', inputs: ['c2', 'd'], outputs: ['s'] }, { op: 'Relu', inputs: ['s'], outputs: ['r2'] },
        // the shortcut's output d stays in the arena and is read last by the block's Add: conv2 accumulates in
        // its block; the block's output stays there too, for conv3
        conv('conv3', 'r2', 'w3', undefined, 'y', { pads: [1, 1, 1, 1] }),
      ],
      inputs: [{ name: 'x', shape: [1, 8, 10, 10] }],
      outputs: [{ name: 'y' }],
      initializers: [init32('w1', [16, 8, 3, 3], 41), init32('b1', [16], 42), init32('w2', [16, 16, 3, 3], 43), init32('b2', [16], 44),
        init32('wd', [16, 8, 1, 1], 45), init32('bd', [16], 46), init32('w3', [4, 16, 3, 3], 47)],
    });
    expect(m.fused.runtimeNodes).toBe(4);
    const x = f32([1, 8, 10, 10], 8);
    agree(m, { x });
    const used = runtime().arena.used;
    agree(m, { x });
    expect(runtime().arena.used).toBe(used);
  });

  it('Conv + Add without an activation after it, and the Add output read twice', async () => {
    const m = await both({
      nodes: [conv('conv', 'x', 'w', 'b', 'c'), { op: 'Add', inputs: ['c', 'x'], outputs: ['s'] },
        { op: 'Relu', inputs: ['s'], outputs: ['r'] }, { op: 'Mul', inputs: ['s', 'r'], outputs: ['y'] }],
      inputs: [{ name: 'x', shape: [1, 8, 6, 6] }],
      outputs: [{ name: 'y' }],
      initializers: [init32('w', [8, 8, 3, 3], 51), init32('b', [8], 52)],
    });
    expect(m.fused.runtimeNodes).toBe(3); // Conv+Add, Relu, Mul: the Relu is not the Add's only reader
    agree(m, { x: f32([1, 8, 6, 6], 9) });
  });

  it('an Add that broadcasts (a per-channel bias) runs the original nodes, same result', async () => {
    const m = await both({
      nodes: [conv('conv', 'x', 'w', undefined, 'c'), { op: 'Add', inputs: ['c', 'bias'], outputs: ['s'] }, { op: 'Relu', inputs: ['s'], outputs: ['y'] }],
      inputs: [{ name: 'x', shape: [1, 8, 6, 6] }],
      outputs: [{ name: 'y' }],
      initializers: [init32('w', [8, 8, 3, 3], 61), init32('bias', [1, 8, 1, 1], 62)],
    });
    expect(m.fused.runtimeNodes).toBe(1);
    agree(m, { x: f32([1, 8, 6, 6], 10) });
  });

  it('a residual of the wrong shape fails naming the Add node, as unfused', async () => {
    const m = await both({
      nodes: [conv('conv', 'x', 'w', 'b', 'c'), { op: 'Add', name: 'the_add', inputs: ['c', 'r'], outputs: ['y'] }],
      inputs: [{ name: 'x', shape: [1, 8, 6, 6] }, { name: 'r', shape: [1, 8, 'h', 'w'] }],
      outputs: [{ name: 'y' }],
      initializers: [init32('w', [8, 8, 3, 3], 71), init32('b', [8], 72)],
    });
    expect(m.fused.runtimeNodes).toBe(1);
    const feeds = { x: f32([1, 8, 6, 6], 11), r: f32([1, 8, 5, 5], 12) };
    expect(() => m.plain.runTensors(feeds)).toThrow(/Add 'the_add'/);
    expect(() => m.fused.runTensors(feeds)).toThrow(/Add 'the_add'/);
  });
});

describe('what must not fuse', () => {
  it('a conv output with a second reader keeps its own node (and its value)', async () => {
    const m = await both({
      nodes: [conv('conv', 'x', 'w', 'b', 'c'), { op: 'Relu', inputs: ['c'], outputs: ['r'] }, { op: 'Add', inputs: ['c', 'r'], outputs: ['y'] }],
      inputs: [{ name: 'x', shape: [1, 8, 6, 6] }],
      outputs: [{ name: 'y' }],
      initializers: [init32('w', [8, 8, 3, 3], 81), init32('b', [8], 82)],
    });
    expect(m.fused.runtimeNodes).toBe(3);
    const y = agree(m, { x: f32([1, 8, 6, 6], 15) }).y.data as Float32Array;
    // y = c + relu(c): the negatives of c survive, so a wrongly fused relu(c) + relu(c) would show
    expect(Array.from(y).some((v) => v < 0)).toBe(true);
  });

  it('a conv output that is a graph output is not fused away', async () => {
    const m = await both({
      nodes: [conv('conv', 'x', 'w', 'b', 'c'), { op: 'Relu', inputs: ['c'], outputs: ['y'] }],
      inputs: [{ name: 'x', shape: [1, 8, 6, 6] }],
      outputs: [{ name: 'c' }, { name: 'y' }],
      initializers: [init32('w', [8, 8, 3, 3], 91), init32('b', [8], 92)],
    });
    expect(m.fused.runtimeNodes).toBe(2);
    const out = agree(m, { x: f32([1, 8, 6, 6], 16) });
    expect(Array.from(out.c.data as Float32Array).some((v) => v < 0)).toBe(true);
  });

  it('Conv -> Add(c, c) is not a residual', async () => {
    const m = await both({
      nodes: [conv('conv', 'x', 'w', 'b', 'c'), { op: 'Add', inputs: ['c', 'c'], outputs: ['y'] }],
      inputs: [{ name: 'x', shape: [1, 8, 6, 6] }],
      outputs: [{ name: 'y' }],
      initializers: [init32('w', [8, 8, 3, 3], 93), init32('b', [8], 94)],
    });
    expect(m.fused.runtimeNodes).toBe(2);
    agree(m, { x: f32([1, 8, 6, 6], 17) });
  });
});

describe('NHWC between convs and pools, NCHW for everything else', () => {
  it('Conv -> Relu -> MaxPool -> Conv -> Relu -> GlobalAveragePool -> Flatten -> Gemm -> Relu -> Gemm', async () => {
    const m = await both({
      nodes: [
        conv('c1', 'x', 'w1', 'b1', 'a1'), { op: 'Relu', inputs: ['a1'], outputs: ['r1'] },
        { op: 'MaxPool', inputs: ['r1'], outputs: ['p1'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
        conv('c2', 'p1', 'w2', 'b2', 'a2'), { op: 'Relu', inputs: ['a2'], outputs: ['r2'] },
        { op: 'GlobalAveragePool', inputs: ['r2'], outputs: ['g'] },
        { op: 'Flatten', inputs: ['g'], outputs: ['f'] },
        { op: 'Gemm', inputs: ['f', 'wf', 'bf'], outputs: ['h'], attrs: { transB: 1 } }, { op: 'Relu', inputs: ['h'], outputs: ['hr'] },
        { op: 'Gemm', inputs: ['hr', 'wo', 'bo'], outputs: ['y'], attrs: { transB: 1 } },
      ],
      inputs: [{ name: 'x', shape: ['n', 3, 16, 16] }],
      outputs: [{ name: 'y' }],
      initializers: [init32('w1', [8, 3, 3, 3], 101), init32('b1', [8], 102), init32('w2', [16, 8, 3, 3], 103), init32('b2', [16], 104),
        init32('wf', [12, 16], 105), init32('bf', [12], 106), init32('wo', [5, 12], 107), init32('bo', [5], 108)],
    });
    expect(m.fused.runtimeNodes).toBe(7); // conv+relu, pool, conv+relu, gap, flatten, gemm+relu, gemm
    agree(m, { x: f32([1, 3, 16, 16], 18) });
    agree(m, { x: f32([3, 3, 16, 16], 19) });
  });

  it('a pooled NHWC value read by Flatten / Transpose / Concat / a broadcasting Mul arrives NCHW', async () => {
    const m = await both({
      nodes: [
        conv('c1', 'x', 'w1', 'b1', 'a1'), { op: 'Relu', inputs: ['a1'], outputs: ['r1'] },
        { op: 'MaxPool', inputs: ['r1'], outputs: ['p'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
        { op: 'Sigmoid', inputs: ['p'], outputs: ['s'] }, // layout-blind: stays NHWC
        { op: 'Mul', inputs: ['s', 'scale'], outputs: ['sm'] }, // per-channel broadcast: needs NCHW
        { op: 'Flatten', inputs: ['p'], outputs: ['flat'] },
        { op: 'Transpose', inputs: ['s'], outputs: ['t'], attrs: { perm: [0, 2, 3, 1] } },
        { op: 'Concat', inputs: ['p', 's'], outputs: ['cat'], attrs: { axis: 1 } },
        { op: 'AveragePool', inputs: ['s'], outputs: ['ap'], attrs: { kernel_shape: [2, 2] } },
      ],
      inputs: [{ name: 'x', shape: [2, 3, 8, 8] }],
      outputs: [{ name: 'sm' }, { name: 'flat' }, { name: 't' }, { name: 'cat' }, { name: 'ap' }],
      initializers: [init32('w1', [6, 3, 3, 3], 111), init32('b1', [6], 112), init32('scale', [1, 6, 1, 1], 113)],
    });
    agree(m, { x: f32([2, 3, 8, 8], 20) });
  });

  it('an inception-style channel Concat of NHWC branches (and a graph input) feeds the next conv in NHWC', async () => {
    for (const axis of [1, -3]) {
      const m = await both({
        nodes: [
          conv('a', 'x', 'wa', 'ba', 'ya', {}), { op: 'Relu', inputs: ['ya'], outputs: ['ra'] },
          conv('b', 'x', 'wb', 'bb', 'yb'), { op: 'Relu', inputs: ['yb'], outputs: ['rb'] },
          conv('c', 'x', 'wc', undefined, 'yc'), // one channel: NCHW and NHWC are the same bytes
          { op: 'MaxPool', inputs: ['x'], outputs: ['p'], attrs: { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] } },
          { op: 'Concat', inputs: ['ra', 'rb', 'yc', 'p', 'extra'], outputs: ['cat'], attrs: { axis } },
          conv('d', 'cat', 'wd', 'bd', 'yd'), { op: 'Relu', inputs: ['yd'], outputs: ['y'] },
          { op: 'Concat', inputs: ['ra', 'ra'], outputs: ['rows'], attrs: { axis: 2 } }, // not channels: the op on NCHW
        ],
        inputs: [{ name: 'x', shape: [2, 6, 5, 5] }, { name: 'extra', shape: [2, 3, 5, 5] }],
        outputs: [{ name: 'y' }, { name: 'rows' }],
        initializers: [init32('wa', [4, 6, 1, 1], 161), init32('ba', [4], 162), init32('wb', [5, 6, 3, 3], 163), init32('bb', [5], 164),
          init32('wc', [1, 6, 3, 3], 165), init32('wd', [8, 19, 3, 3], 166), init32('bd', [8], 167)],
      });
      agree(m, { x: f32([2, 6, 5, 5], 26), extra: f32([2, 3, 5, 5], 27) });
    }
  });

  it('a channel Concat of convs read by nothing else is filled in place (Winograd, im2col, 1x1), memory level', async () => {
    const spec = (stride: number): ModelSpec => ({
      nodes: [
        conv('a', 'x', 'wa', 'ba', 'ya', {}), { op: 'Relu', inputs: ['ya'], outputs: ['ra'] }, // 1x1
        conv('b', 'x', 'wb', 'bb', 'yb'), // 3x3 stride 1, 8 channels in: Winograd
        conv('c', 'x', 'wc', undefined, 'yc', { pads: [1, 1, 1, 1], strides: [stride, stride] }), // im2col
        { op: 'Concat', inputs: ['ra', 'yb', 'yc'], outputs: ['cat'], attrs: { axis: 1 } },
        conv('d', 'cat', 'wd', 'bd', 'yd'), { op: 'Relu', inputs: ['yd'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', shape: ['N', 8, 'H', 'W'] }],
      outputs: [{ name: 'y' }, { name: 'cat' }],
      initializers: [init32('wa', [4, 8, 1, 1], 171), init32('ba', [4], 172), init32('wb', [5, 8, 3, 3], 173), init32('bb', [5], 174),
        init32('wc', [3, 8, 3, 3], 175), init32('wd', [6, 12, 3, 3], 176), init32('bd', [6], 177)],
    });
    const m = await both(spec(1));
    const steps = (m.fused as unknown as { steps: Array<{ node: OpNode }> }).steps.map((st) => st.node);
    expect(steps.find((n) => n.opType === 'Concat')?.concatInPlace).toBe(true);
    expect(steps.filter((n) => n.concatSlot).map((n) => [n.name, n.concatSlot!.offset, n.concatSlot!.total])).toEqual([['a', 0, 12], ['b', 4, 12], ['c', 9, 12]]);
    const x = f32([2, 8, 6, 6], 28);
    agree(m, { x });
    const arena = runtime().arena, used = arena.used;
    for (let i = 0; i < 3; i++) agree(m, { x });
    agree(m, { x: f32([1, 8, 7, 5], 29) }); // other batch and spatial dims: a new block each call
    expect(arena.used).toBe(used);
    // conv c's output is 3x3 where the others are 6x6: it writes its own block, the Concat fails as unfused
    const bad = await both(spec(2));
    const plainError = (() => { try { bad.plain.runTensors({ x }); } catch (e) { return (e as Error).message; } })();
    expect(plainError).toMatch(/Concat/);
    expect(() => bad.fused.runTensors({ x })).toThrow(plainError!); // packs its weights
    const packed = arena.used;
    expect(() => bad.fused.runTensors({ x })).toThrow(plainError!);
    expect(arena.used, 'the block a throw left is released').toBe(packed);
  });

  it('a caller tensor that claims layout nhwc is read as NCHW', async () => {
    const m = await both({
      nodes: [conv('c', 'x', 'w', 'b', 'a'), { op: 'Relu', inputs: ['a'], outputs: ['y'] }],
      inputs: [{ name: 'x', shape: [1, 4, 5, 5] }],
      outputs: [{ name: 'y' }],
      initializers: [init32('w', [4, 4, 3, 3], 121), init32('b', [4], 122)],
    });
    const x = f32([1, 4, 5, 5], 21);
    const want = m.plain.runTensors({ x }).y.data;
    expect(m.fused.runTensors({ x: { ...x, layout: 'nhwc' } }).y.data).toEqual(want);
  });
});

describe('the passes on node lists', () => {
  const node = (opType: string, inputs: string[], outputs: string[], attrs: Attrs = new Attrs([], opType)): OpNode =>
    ({ name: outputs[0], opType, opset: 13, attrs, inputs, outputs });

  it('fuse a chain and mark which outputs stay NHWC: up to the readers that take it', () => {
    const nodes = [
      node('Conv', ['x', 'w1'], ['a1']), node('Relu', ['a1'], ['r1']),
      node('MaxPool', ['r1'], ['p1']),
      node('Conv', ['p1', 'w2'], ['a2']), node('Add', ['a2', 'p1'], ['s']), node('Relu', ['s'], ['r2']),
      node('Sigmoid', ['r2'], ['g']), node('Flatten', ['g'], ['f']),
    ];
    const out = fuseNodes(nodes, new Set(['f']));
    expect(out.map((n) => [n.opType, n.fused?.nodes.map((f) => f.name) ?? []])).toEqual([
      ['Conv', ['a1', 'r1']], ['MaxPool', []], ['Conv', ['a2', 's', 'r2']], ['Sigmoid', []], ['Flatten', []],
    ]);
    expect(out[2].inputs).toEqual(['p1', 'w2', '', 'p1']);
    expect(out[2].fused?.residual).toBe(3);
    planLayouts(out, new Set(['f']));
    // conv+relu -> pool -> conv (X and residual) -> sigmoid: NHWC; the sigmoid feeds Flatten: NCHW
    expect(out.map((n) => !!n.nhwcOut)).toEqual([true, true, true, false, false]);
    // the fused groups' originals are untouched (a fallback runs them as they were)
    expect([0, 1, 3, 4, 5].some((i) => nodes[i].fused || nodes[i].nhwcOut)).toBe(false);
  });

  it('a value read as a conv weight or by a layout-bound op is never NHWC', () => {
    const out = fuseNodes([node('Conv', ['x', 'w'], ['a']), node('Conv', ['x', 'a'], ['b']), node('Reshape', ['b', 'shape'], ['y'])], new Set(['y']));
    planLayouts(out, new Set(['y']));
    expect(out.map((n) => !!n.nhwcOut)).toEqual([false, false, false]);
  });
});

describe('values kept in the arena between kernels', () => {
  // p1 stays in the arena from the MaxPool to conv c2; the Reshape between them may throw
  const chain: ModelSpec = {
    nodes: [
      conv('c1', 'x', 'w1', 'b1', 'a1'), { op: 'Relu', inputs: ['a1'], outputs: ['r1'] },
      { op: 'MaxPool', inputs: ['r1'], outputs: ['p1'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: 'Reshape', name: 'reshape', inputs: ['x', 'shape'], outputs: ['z'] },
      conv('c2', 'p1', 'w2', 'b2', 'a2'), { op: 'Add', inputs: ['a2', 'p1'], outputs: ['s'] }, { op: 'Relu', inputs: ['s'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', shape: [1, 8, 8, 8] }, { name: 'shape', dtype: 'int64', shape: [2] }],
    outputs: [{ name: 'y' }, { name: 'z' }],
    initializers: [init32('w1', [8, 8, 3, 3], 151), init32('b1', [8], 152), init32('w2', [8, 8, 3, 3], 153), init32('b2', [8], 154)],
  };
  const shape = (v: number[]): OnnxTensor => ({ dtype: 'int64', dims: [2], data: new BigInt64Array(v.map(BigInt)) });

  it('are all released after every call, and after a call that throws midway', async () => {
    const m = await both(chain);
    expect(m.fused.runtimeNodes).toBe(4);
    const x = f32([1, 8, 8, 8], 25);
    agree(m, { x, shape: shape([8, 64]) }); // packs the weights
    const arena = runtime().arena;
    const used = arena.used;
    for (let i = 0; i < 3; i++) agree(m, { x, shape: shape([8, 64]) });
    expect(arena.used).toBe(used);
    // the Reshape throws while p1 is in the arena
    expect(() => m.fused.runTensors({ x, shape: shape([7, 64]) })).toThrow(/Reshape 'reshape'/);
    expect(arena.used).toBe(used);
  });
});

describe('Gemm / MatMul + activation', () => {
  it('fuse when nothing follows the kernel, else run the originals', async () => {
    const cases: Array<{ node: NodeSpec; fused: number }> = [
      { node: { op: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['h'], attrs: { transB: 1 } }, fused: 1 },
      { node: { op: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['h'], attrs: { transB: 1, alpha: { float: 0.5 } } }, fused: 1 }, // alpha after the kernel: originals
      { node: { op: 'Gemm', inputs: ['x', 'w'], outputs: ['h'], attrs: { transB: 1 } }, fused: 1 },
      { node: { op: 'MatMul', inputs: ['x', 'wt'], outputs: ['h'] }, fused: 1 },
    ];
    for (const c of cases) {
      const m = await both({
        nodes: [c.node, { op: 'Relu', inputs: ['h'], outputs: ['y'] }],
        inputs: [{ name: 'x', shape: ['n', 10] }],
        outputs: [{ name: 'y' }],
        initializers: [init32('w', [7, 10], 131), init32('b', [7], 132), init32('wt', [10, 7], 133)],
      });
      expect(m.fused.runtimeNodes).toBe(c.fused);
      agree(m, { x: f32([3, 10], 22) });
    }
  });
});

describe('run-time inputs the kernels do not take', () => {
  it('a float64 Conv -> Relu (weights fed as inputs) runs the original nodes', async () => {
    const m = await both({
      nodes: [conv('conv', 'x', 'w', undefined, 'c'), { op: 'Relu', inputs: ['c'], outputs: ['y'] }],
      inputs: [{ name: 'x', dtype: 'float64', shape: [1, 2, 4, 4] }, { name: 'w', dtype: 'float64', shape: [3, 2, 3, 3] }],
      outputs: [{ name: 'y', dtype: 'float64' }],
    });
    expect(m.fused.runtimeNodes).toBe(1);
    const x: OnnxTensor = { dtype: 'float64', dims: [1, 2, 4, 4], data: new Float64Array(values(32, 23)) };
    const w: OnnxTensor = { dtype: 'float64', dims: [3, 2, 3, 3], data: new Float64Array(values(54, 24)) };
    const a = m.fused.runTensors({ x, w }).y, b = m.plain.runTensors({ x, w }).y;
    expect(a.dtype).toBe('float64');
    expect(a.data).toEqual(b.data);
  });

  it('errors are WasmzooErrors naming the original node', async () => {
    const m = await loadOnnx(onnxModel({
      nodes: [conv('my_conv', 'x', 'w', 'b', 'c'), { op: 'Relu', name: 'my_relu', inputs: ['c'], outputs: ['y'] }],
      inputs: [{ name: 'x', shape: [1, 'c', 5, 5] }],
      outputs: [{ name: 'y' }],
      initializers: [init32('w', [4, 4, 3, 3], 141), init32('b', [4], 142)],
    }));
    let err: unknown;
    try {
      m.forward(tensor(values(3 * 25, 1), [1, 3, 5, 5]));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WasmzooError);
    expect((err as Error).message).toMatch(/Conv 'my_conv'/);
  });
});

/** Calls of kernel `name` while `fn` runs (a copy of the runtime's kernel table with that one wrapped). */
function countKernelCalls(name: string, fn: () => void): number {
  const rt = runtime() as unknown as { k: Record<string, unknown> };
  const k = rt.k;
  let calls = 0;
  const real = k[name] as (...a: unknown[]) => unknown;
  rt.k = { ...k, [name]: (...a: unknown[]) => { calls++; return real(...a); } };
  try {
    fn();
  } finally {
    rt.k = k;
  }
  return calls;
}

describe('large float32 elementwise ops and softmax run on the kernels (ops/fast-f32.ts)', () => {
  const one = (op: string, arity: number, attrs: NodeSpec['attrs'] = {}, opset = 13) => loadOnnx(onnxModel({
    opset,
    nodes: [{ op, inputs: arity === 2 ? ['a', 'b'] : ['a'], outputs: ['y'], attrs }],
    inputs: arity === 2 ? [{ name: 'a' }, { name: 'b' }] : [{ name: 'a' }],
    outputs: [{ name: 'y' }],
  }));
  // 5000 elements take the kernels, 300 the TypeScript loop: both against float64 Math here
  for (const n of [5000, 300]) {
    it(`Relu, LeakyRelu, Sigmoid, Tanh, Add, Mul on ${n} elements`, async () => {
      const a = f32([2, n / 2], 31), b = f32([2, n / 2], 32);
      const ad = a.data as Float32Array, bd = b.data as Float32Array;
      const unary: Array<[string, NodeSpec['attrs'], (x: number) => number, number]> = [
        ['Relu', {}, (x) => Math.max(0, x), 0],
        ['LeakyRelu', { alpha: { float: 0.25 } }, (x) => (x < 0 ? 0.25 * x : x), 0],
        ['Sigmoid', {}, (x) => 1 / (1 + Math.exp(-x)), 2e-7],
        ['Tanh', {}, Math.tanh, 2e-7],
      ];
      for (const [op, attrs, fn, tol] of unary) {
        const m = await one(op, 1, attrs);
        const calls = countKernelCalls('activation', () => m.runTensors({ a }));
        expect(calls, `${op} on the kernel`).toBe(n >= 4096 ? 1 : 0);
        const y = m.runTensors({ a }).y.data as Float32Array;
        let worst = 0;
        for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(y[i] - fn(ad[i])));
        expect(worst, op).toBeLessThanOrEqual(tol === 0 ? 0 : tol);
      }
      const add = await one('Add', 2), mul = await one('Mul', 2);
      expect(countKernelCalls('add', () => add.runTensors({ a, b })) + countKernelCalls('mul', () => mul.runTensors({ a, b }))).toBe(n >= 4096 ? 2 : 0);
      const sum = add.runTensors({ a, b }).y.data as Float32Array;
      const prod = mul.runTensors({ a, b }).y.data as Float32Array;
      expect(Array.from(sum)).toEqual(Array.from(ad, (x, i) => Math.fround(x + bd[i])));
      expect(Array.from(prod)).toEqual(Array.from(ad, (x, i) => Math.fround(x * bd[i])));
      // broadcasting stays on the generic path
      const row = f32([n / 2], 33);
      const bsum = (await one('Add', 2)).runTensors({ a, b: row }).y.data as Float32Array;
      expect(bsum[n / 2 + 1]).toBe(Math.fround(ad[n / 2 + 1] + (row.data as Float32Array)[1]));
    });
  }

  it('Softmax / LogSoftmax over the last axis (opset 13) and over the flattened tail (opset 11), vs float64', async () => {
    const x = f32([3, 2, 1000], 34);
    const xd = x.data as Float32Array;
    const rows = (cols: number, log: boolean) => {
      const out = new Float64Array(xd.length);
      for (let r = 0; r < xd.length / cols; r++) {
        let m = -Infinity, s = 0;
        for (let j = 0; j < cols; j++) m = Math.max(m, xd[r * cols + j]);
        for (let j = 0; j < cols; j++) s += Math.exp(xd[r * cols + j] - m);
        for (let j = 0; j < cols; j++) out[r * cols + j] = log ? xd[r * cols + j] - m - Math.log(s) : Math.exp(xd[r * cols + j] - m) / s;
      }
      return out;
    };
    for (const [opset, cols] of [[13, 1000], [11, 2000]] as const) {
      for (const log of [false, true]) {
        const m = await one(log ? 'LogSoftmax' : 'Softmax', 1, opset === 11 ? { axis: 1 } : {}, opset);
        expect(countKernelCalls(log ? 'log_softmax' : 'softmax', () => m.runTensors({ a: x }))).toBe(1);
        const y = m.runTensors({ a: x }).y.data as Float32Array, want = rows(cols, log);
        let worst = 0;
        for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i] - want[i]) / Math.max(1e-3, Math.abs(want[i])));
        expect(worst, `${log ? 'LogSoftmax' : 'Softmax'} opset ${opset}`).toBeLessThan(2e-6);
      }
    }
  });
});
