/**
 * module.summary() and toString(), tensor toString(): the layer table checked against PyTorch's own module
 * tree (test/golden/summary/*.json: each module's output shape from forward hooks and its parameter count,
 * written by tools/gen_summary_goldens.py), the repr's form, and console.log output in Node.
 */
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import * as wz from '../../src/index.js';
import { summaryRows } from '../../src/nn/describe.js';

interface Golden { input: number[]; modules: Record<string, { type: string; parameters: number; output?: number[] }> }
const golden = (name: string): Golden => JSON.parse(readFileSync(new URL(`../golden/summary/${name}.json`, import.meta.url), 'utf8'));

beforeAll(async () => {
  await wz.init({ threads: 1 });
});

describe('module.summary()', () => {
  for (const name of ['lenet5', 'resnet18', 'googlenet'] as const) {
    it(`${name}: every layer's output shape and parameter count match PyTorch's`, async () => {
      const g = golden(name);
      const model = await (wz[name] as () => Promise<wz.ZooModel>)();
      const rows = summaryRows(model, g.input);
      let compared = 0;
      for (const r of rows) {
        const want = g.modules[r.name];
        if (!want) continue;
        expect(r.parameters, `${r.name} parameters`).toBe(want.parameters);
        if (want.output && r.outputShape) {
          expect([...r.outputShape], `${r.name} (${r.type}) output`).toEqual(want.output);
          compared++;
        }
      }
      // every PyTorch module with parameters and an output is in the table with its shape
      const withParams = Object.entries(g.modules).filter(([, m]) => m.parameters > 0 && m.output);
      for (const [k] of withParams) expect(rows.find((r) => r.name === k)?.outputShape, `${k} has an output shape`).toBeDefined();
      expect(compared).toBeGreaterThanOrEqual(withParams.length);
      const text = model.summary(g.input);
      expect(text).toContain(`Learnable parameters: ${g.modules[''].parameters.toLocaleString('en-US')}`);
      expect(text.split('\n').length).toBe(rows.length + 7 + (text.includes('Buffers') ? 1 : 0));
      model.dispose();
    });
  }

  it('leaves nothing planned: forward() afterwards plans and matches a fresh model', async () => {
    const a = await wz.lenet5();
    const x = wz.tensor(new Float32Array(784).map((_, i) => Math.sin(i)), [1, 1, 28, 28]);
    const before = a.forward(x).data.slice();
    a.summary([4, 1, 28, 28]);
    expect(Array.from(a.forward(x).data)).toEqual(Array.from(before));
    a.dispose();
  });

  it('refuses a wrong input shape the way forward() does', async () => {
    const m = await wz.lenet5();
    expect(() => m.summary([1, 3, 28, 28])).toThrow(/LeNet5|lenet/i);
    for (const bad of [[], [1, -1, 28, 28], [1, 1, 2.5, 28], 'x']) expect(() => m.summary(bad as number[]), String(bad)).toThrow(/summary: input shape must be positive integers/);
    m.dispose();
  });
});

describe('toString and console.log', () => {
  it('modules print as PyTorch repr: the tree with each layer\'s settings', () => {
    const seq = new wz.nn.Sequential(new wz.nn.Conv2d(1, 6, 5, { padding: 2 }), new wz.nn.ReLU(), new wz.nn.Linear(4, 8));
    const s = seq.toString();
    expect(s.split('\n')[0]).toBe('Sequential(');
    expect(s).toContain('(0): Conv2d(inChannels=1, outChannels=6, kernelSize=[5, 5], stride=[1, 1], padding=[2, 2]');
    expect(s).toContain('(1): ReLU()');
    expect(s).toContain('(2): Linear(inFeatures=4, outFeatures=8');
    expect(s.endsWith('\n)')).toBe(true);
    expect(inspect(seq)).toBe(s);
  });

  it('tensors print their values and shape, summarised when large', () => {
    const t = wz.tensor([1, 2, 3, 4.5], [2, 2]);
    expect(t.toString()).toBe('tensor([[1.0000, 2.0000],\n        [3.0000, 4.5000]], shape=[2, 2])');
    expect(inspect(t)).toBe(t.toString());
    expect(wz.tensor([1e-7], [1]).toString()).toBe('tensor([1.0000e-7], shape=[1])');
    const big = wz.tensor(new Float32Array(2000), [2000]).toString();
    expect(big).toBe('tensor([0.0000, 0.0000, 0.0000, ..., 0.0000, 0.0000, 0.0000], shape=[2000])');
  });
});

it('prints a readable table (resnet18, for the eye)', async () => {
  const m = await wz.resnet18();
  const t = m.summary([1, 3, 224, 224]);
  console.info(t.split('\n').slice(0, 12).join('\n') + '\n...\n' + t.split('\n').slice(-6).join('\n'));
  expect(t).toMatch(/layer1\.0\.conv1 \(Conv2d\)\s+\[1, 64, 56, 56\]\s+36,864/);
  m.dispose();
});
