/**
 * The ONNX session as a user meets it (src/onnx/session.ts), on models written by test/onnx/build.ts:
 * every unsupported op listed at once with node names, malformed files refused with E_ONNX, constant
 * subgraphs folded at load (the exporter's Shape -> Gather -> Unsqueeze -> Concat -> Reshape chain),
 * symbolic batch sizes changing between calls, input checks, external data, run/forward.
 */
import { describe, expect, it } from 'vitest';
import { loadOnnx, inspectOnnx } from '../../src/onnx/index.js';
import { tensor, WasmzooError } from '../../src/index.js';
import { onnxModel, type ModelSpec } from './build.js';
import { ONNX_OPS } from '../../src/onnx/ops/index.js';

// Each test switches on when the ops it runs are registered in src/onnx/ops/index.ts (issue 11: the op
// tables land from several helpers); until then the conformance runner and the fuzz test cover the load path.
const has = (...ops: string[]) => ops.every((op) => op in ONNX_OPS);
const RELU_ADD = has('Relu', 'Add');

const reluAdd: ModelSpec = {
  nodes: [
    { op: 'Relu', inputs: ['x'], outputs: ['r'] },
    { op: 'Add', inputs: ['r', 'b'], outputs: ['y'] },
  ],
  inputs: [{ name: 'x', shape: ['batch', 3] }],
  outputs: [{ name: 'y', shape: ['batch', 3] }],
  initializers: [{ name: 'b', dims: [3], values: [10, 20, 30] }],
};

describe('loadOnnx', () => {
  it.skipIf(!RELU_ADD)('runs a model with a symbolic batch that changes between calls; run() by name and forward()', async () => {
    const m = await loadOnnx(onnxModel(reluAdd));
    expect(m.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['batch', 3] }]);
    expect(m.outputs).toEqual([{ name: 'y', dtype: 'float32', shape: ['batch', 3] }]);
    const y1 = m.forward(tensor([-1, 2, -3], [1, 3]));
    expect(Array.from(y1.data)).toEqual([10, 22, 30]);
    const y2 = m.run({ x: tensor([1, -2, 3, 4, 5, -6], [2, 3]) }).y;
    expect((y2 as unknown as { shape: number[] }).shape).toEqual([2, 3]);
    expect(Array.from((y2 as unknown as { data: Float32Array }).data)).toEqual([11, 20, 33, 14, 25, 30]);
  });

  it.skipIf(!RELU_ADD)('lists every unsupported op and domain at once, with node names', async () => {
    const bytes = onnxModel({
      nodes: [
        { op: 'Relu', inputs: ['x'], outputs: ['a'] },
        { op: 'FancyOp', inputs: ['a'], outputs: ['b'], name: 'first_bad' },
        { op: 'OtherOp', inputs: ['b'], outputs: ['c'], name: 'second_bad' },
        { op: 'Gelu', inputs: ['c'], outputs: ['y'], name: 'ms', domain: 'com.microsoft' },
      ],
      inputs: [{ name: 'x', shape: [2] }], outputs: [{ name: 'y', shape: [2] }],
    });
    const err = await loadOnnx(bytes).catch((e) => e);
    expect(err).toBeInstanceOf(WasmzooError);
    expect(err.code).toBe('E_UNSUPPORTED');
    expect(err.message).toMatch(/\(3\):/);
    expect(err.message).toMatch(/'first_bad': op FancyOp is not supported/);
    expect(err.message).toMatch(/'second_bad': op OtherOp is not supported/);
    expect(err.message).toMatch(/'ms' \(Gelu\): domain 'com.microsoft'/);
    const r = await inspectOnnx(bytes);
    expect(r.unsupported).toHaveLength(3);
    expect(r.ops).toEqual({ Relu: 1, FancyOp: 1, OtherOp: 1, Gelu: 1 });
  });

  it.skipIf(!RELU_ADD)('refuses files that are not ONNX, truncated or inconsistent with E_ONNX', async () => {
    const good = onnxModel(reluAdd);
    for (const bad of [new Uint8Array(0), new TextEncoder().encode('{"not": "onnx"}'), good.subarray(0, good.length - 7), good.subarray(0, 20)]) {
      await expect(loadOnnx(bad)).rejects.toMatchObject({ code: 'E_ONNX' });
    }
    const dangling = onnxModel({ ...reluAdd, nodes: [{ op: 'Add', inputs: ['r', 'b'], outputs: ['y'] }] });
    await expect(loadOnnx(dangling)).rejects.toThrow(/reads 'r', which no earlier node, input or initializer produces/);
    const shortData = onnxModel({ ...reluAdd, initializers: [{ name: 'b', dims: [3], values: [1, 2] }] });
    await expect(loadOnnx(shortData)).rejects.toThrow(/tensor 'b' of shape \[3\].*raw_data/);
  });

  it.skipIf(!has('Shape', 'Gather', 'Unsqueeze', 'Concat', 'Reshape'))('folds the constant Shape/Gather/Unsqueeze/Concat chain around Reshape at load', async () => {
    // y = Reshape(x, Concat(Unsqueeze(Gather(Shape(w), 0)), [-1])): w is an initializer, so only Reshape runs
    const m = await loadOnnx(onnxModel({
      nodes: [
        { op: 'Shape', inputs: ['w'], outputs: ['s'] },
        { op: 'Gather', inputs: ['s', 'zero'], outputs: ['g'], attrs: { axis: 0 } },
        { op: 'Unsqueeze', inputs: ['g', 'axes'], outputs: ['u'] },
        { op: 'Concat', inputs: ['u', 'minus1'], outputs: ['shape'], attrs: { axis: 0 } },
        { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', shape: [2, 6] }],
      outputs: [{ name: 'y' }],
      initializers: [
        { name: 'w', dims: [4, 5], values: new Array(20).fill(0) },
        { name: 'zero', dtype: 'int64', dims: [], values: [0] },
        { name: 'axes', dtype: 'int64', dims: [1], values: [0] },
        { name: 'minus1', dtype: 'int64', dims: [1], values: [-1] },
      ],
    }));
    expect(m.runtimeNodes).toBe(1);
    const y = m.forward(tensor(Array.from({ length: 12 }, (_, i) => i), [2, 6]));
    expect(y.shape).toEqual([4, 3]);
    expect(Array.from(y.data)).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it.skipIf(!RELU_ADD)('checks inputs by name, dtype and shape', async () => {
    const m = await loadOnnx(onnxModel(reluAdd));
    expect(() => m.run({})).toThrow(/input 'x' is missing/);
    expect(() => m.run({ x: tensor([1, 2, 3], [1, 3]), z: tensor([1], [1]) })).toThrow(/'z' is not an input of this model/);
    expect(() => m.forward(tensor([1, 2, 3, 4], [1, 4]))).toThrow(/input 'x' expects shape \[batch, 3\], got \[1, 4\]/);
    expect(() => m.run({ x: { dtype: 'int64', dims: [1, 3], data: new BigInt64Array(3) } })).toThrow(/input 'x' is float32, got int64/);
  });

  it.skipIf(!RELU_ADD)('reads external data from options.externalData, and says which file is missing', async () => {
    const spec: ModelSpec = { ...reluAdd, initializers: [{ name: 'b', dims: [3], external: { location: 'weights.bin', offset: 4, length: 12 } }] };
    const bytes = onnxModel(spec);
    await expect(loadOnnx(bytes)).rejects.toMatchObject({ code: 'E_UNSUPPORTED', message: expect.stringMatching(/external file 'weights.bin'.*externalData/) });
    const file = new Uint8Array(new Float32Array([99, 1, 2, 3]).buffer);
    const m = await loadOnnx(bytes, { externalData: { 'weights.bin': file } });
    expect(Array.from(m.forward(tensor([0, 0, 0], [1, 3])).data)).toEqual([1, 2, 3]);
    await expect(loadOnnx(bytes, { externalData: { 'weights.bin': file.subarray(0, 8) } })).rejects.toMatchObject({ code: 'E_ONNX' });
  });
});
