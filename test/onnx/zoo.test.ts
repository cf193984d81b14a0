/**
 * ONNX model families exported from PyTorch load and match PyTorch: torchvision's ResNet-18, GoogLeNet,
 * SqueezeNet 1.1, MobileNetV2, DenseNet-121, ShuffleNetV2 x0.5 and AlexNet, the repo's LeNet-5 and a 2-layer
 * LSTM classifier, exported by torch.onnx.export (opset 13, batch norm kept as nodes, a symbolic batch dim)
 * with the closed-form hashed weights of tools/hashweights.py (seed 1).
 *
 * The committed files (test/fixtures/onnx/zoo_<name>.onnx, tools/goldens/onnx_zoo.py) are graphs without
 * weights: test/onnx/hashed-onnx.ts regenerates every stripped initializer from its name, the file then
 * loads through the public loadOnnx. zoo_goldens.json holds PyTorch's outputs on the hashed batch-2 input:
 * per row the first 32 logits (rtol 1e-3, atol 1e-4), the top-5 classes, and the sum and sum of squares of the
 * whole row (bounded by what the same tolerance allows on every logit).
 *
 * Then batch 1 and batch 3 through the same model (the symbolic dim changes between calls): hashTensor's
 * values run linearly over the flat index, so the batch-1 input is row 0 of the batch-2 input and the first
 * two rows of the batch-3 input are the batch-2 input; those rows must give the batch-2 outputs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Tensor, hashTensor, init } from '../../src/index.js';
import { loadOnnx, type OnnxModel } from '../../src/onnx/index.js';
import { fillHashed } from './hashed-onnx.js';

const FIXTURES = new URL('../fixtures/onnx/', import.meta.url);
const RTOL = 1e-3, ATOL = 1e-4;

interface Row { head: number[]; top5: number[]; gap5: number; sum: number; sumsq: number }
interface Golden {
  file: string; seed: number; input: { name: string; dims: number[] }; output: string; classes: number;
  ops: string[]; hashed: number; kept: string[]; rows: Row[];
}
const GOLDENS = JSON.parse(readFileSync(new URL('zoo_goldens.json', FIXTURES), 'utf8')) as { models: Record<string, Golden> };

/** Indices of the 5 largest values, ties to the lower index (as the goldens' argsort for distinct values). */
function top5(row: Float32Array): number[] {
  return [...row.keys()].sort((a, b) => row[b] - row[a] || a - b).slice(0, 5);
}

function rows(y: Tensor, classes: number): Float32Array[] {
  expect(y.shape[1]).toBe(classes);
  return Array.from({ length: y.shape[0] }, (_, i) => y.data.subarray(i * classes, (i + 1) * classes));
}

/** The largest |a - b| over `bound(b)`: <= 1 passes. */
function worst(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, atol: number): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (atol + rtol * Math.abs(b[i])));
  return Number.isNaN(m) ? Infinity : m;
}

function expectGolden(row: Float32Array, g: Row, what: string): void {
  expect(worst(row.subarray(0, g.head.length), g.head, RTOL, ATOL), `${what}: first ${g.head.length} logits`).toBeLessThanOrEqual(1);
  expect(top5(row), `${what}: top-5`).toEqual(g.top5);
  // every logit within atol + rtol |y|: |d sum| <= sum |d_i| <= n atol + rtol sum |y| <= n atol + rtol sqrt(n sumsq);
  // |d sumsq| <= sum (2 |y_i| |d_i| + d_i^2), bounded the same way (with 1% slack for the second-order term)
  const n = row.length, l1 = Math.sqrt(n * g.sumsq);
  let sum = 0, sumsq = 0;
  for (const v of row) {
    sum += v;
    sumsq += v * v;
  }
  expect(Math.abs(sum - g.sum), `${what}: sum of the row`).toBeLessThanOrEqual(n * ATOL + RTOL * l1);
  expect(Math.abs(sumsq - g.sumsq), `${what}: sum of squares of the row`).toBeLessThanOrEqual(1.01 * 2 * (ATOL * l1 + RTOL * g.sumsq));
}

beforeAll(async () => {
  await init({ threads: 1 });
});

describe.each(Object.entries(GOLDENS.models))('%s exported by torch.onnx.export', (name, g) => {
  let model: OnnxModel;
  let y2: Tensor;

  it('loads from the graph-only file with the hashed weights, every op supported', async () => {
    const stripped = new Uint8Array(readFileSync(new URL(g.file, FIXTURES)));
    expect(stripped.length).toBeLessThan(150_000);
    const { bytes, filled } = fillHashed(stripped, g.seed);
    expect(filled).toHaveLength(g.hashed);
    model = await loadOnnx(bytes);
    expect(model.inputs).toHaveLength(1);
    expect(model.inputs[0].name).toBe(g.input.name);
    expect(model.inputs[0].shape).toEqual(['batch', ...g.input.dims.slice(1)]);
    expect(model.outputs.map((o) => o.name)).toEqual([g.output]);
    expect(Object.keys(model.ops).sort()).toEqual(g.ops);
  });

  it('batch 2 matches PyTorch (first 32 logits, top-5, row sums)', () => {
    y2 = model.forward(hashTensor(g.seed, 'input', g.input.dims));
    expect(y2.shape).toEqual([2, g.classes]);
    rows(y2, g.classes).forEach((row, i) => expectGolden(row, g.rows[i], `${name} row ${i}`));
  });

  it('batch 1 and batch 3 give the batch-2 rows (the batch dim changes between calls); batch 2 again is unchanged', () => {
    const [, ...rest] = g.input.dims;
    const r2 = rows(y2, g.classes);
    const y1 = model.forward(hashTensor(g.seed, 'input', [1, ...rest]));
    expect(y1.shape).toEqual([1, g.classes]);
    const y3 = model.forward(hashTensor(g.seed, 'input', [3, ...rest]));
    expect(y3.shape).toEqual([3, g.classes]);
    const r3 = rows(y3, g.classes);
    // the same row through another batch size: batch 1 takes the matrix-vector kernels (another summation
    // order; up to 4e-5 seen on AlexNet's 9216-wide Gemm), larger batches only another blocking
    expect(worst(rows(y1, g.classes)[0], r2[0], 1e-4, 1e-4), 'batch 1 row 0').toBeLessThanOrEqual(1);
    expect(worst(r3[0], r2[0], 1e-4, 1e-4), 'batch 3 row 0').toBeLessThanOrEqual(1);
    expect(worst(r3[1], r2[1], 1e-4, 1e-4), 'batch 3 row 1').toBeLessThanOrEqual(1);
    expect(r3[2].every(Number.isFinite)).toBe(true);
    expect(worst(r3[2], r2[0], 0, 1e-3), 'row 2 is another input').toBeGreaterThan(1);
    const again = model.forward(hashTensor(g.seed, 'input', g.input.dims));
    expect(Array.from(again.data)).toEqual(Array.from(y2.data));
  });
});

describe('the golden check catches a wrong model', () => {
  it('LeNet-5 with the weights of another seed, or with one bias off by 0.01, fails it', async () => {
    const g = GOLDENS.models.lenet5;
    const stripped = new Uint8Array(readFileSync(new URL(g.file, FIXTURES)));
    const x = hashTensor(g.seed, 'input', g.input.dims);
    const check = async (bytes: Uint8Array) => expectGolden(rows((await loadOnnx(bytes)).forward(x), g.classes)[0], g.rows[0], 'lenet5');
    await check(fillHashed(stripped, g.seed).bytes);
    await expect(check(fillHashed(stripped, g.seed + 1).bytes)).rejects.toThrow();
    // logit 3 moves by 0.01, above atol + rtol |logit| (< 0.006 here): one wrong value is seen
    await expect(check(fillHashed(stripped, g.seed, (name, v) => { if (name === 'fc3.bias') v[3] += 0.01; }).bytes)).rejects.toThrow(/first 10 logits/);
  });
});
