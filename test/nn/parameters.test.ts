/**
 * Parameters and buffers apart, as PyTorch (issue 12): namedParameters() is what an optimizer learns,
 * namedBuffers() the running statistics, stateDict() both, in PyTorch's key order (test/golden/params/keys.json,
 * written by tools/gen_param_keys.py from torch and torchvision). The entries are public nn.Parameter objects.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/runtime/runtime.js';
import { nn, resnet18, tensor, Tensor, optim } from '../../src/index.js';
import { hashWeights } from '../../src/models/hashweights.js';

const golden = JSON.parse(readFileSync(new URL('../golden/params/keys.json', import.meta.url), 'utf8')) as Record<string, { parameters: string[]; buffers: string[]; state_dict: string[] }>;

const keysOf = (m: nn.Module) => ({
  parameters: m.namedParameters().map(([k]) => k),
  buffers: m.namedBuffers().map(([k]) => k),
  state_dict: Object.keys(m.stateDict()),
});

describe('namedParameters / namedBuffers / stateDict', () => {
  beforeAll(() => init({ threads: 1 }));

  it('list the keys PyTorch lists, in its order (a Sequential with both batch norms)', () => {
    const m = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.BatchNorm2d(2), new nn.ReLU(), new nn.Flatten(), new nn.Linear(8, 3), new nn.BatchNorm1d(3));
    expect(keysOf(m)).toEqual(golden.sequential);
    m.dispose();
  });

  it('list the keys PyTorch lists, in its order (torchvision ResNet-18)', async () => {
    const m = await resnet18();
    expect(keysOf(m)).toEqual(golden.resnet18);
    // torchvision's num_params counts parameters only
    expect(m.parameterCount()).toBe(11689512);
    expect(m.namedParameters().reduce((n, [, p]) => n + p.size, 0)).toBe(11689512);
    m.dispose();
  });

  it('return public nn.Parameter objects, live, with a Tensor copy on demand', () => {
    const bn = new nn.BatchNorm2d(3);
    for (const [, p] of [...bn.namedParameters(), ...bn.namedBuffers()]) expect(p).toBeInstanceOf(nn.Parameter);
    const [[, weight]] = bn.namedParameters();
    weight!.set([1, 2, 3]);
    expect([...bn.stateDict().weight!.data]).toEqual([1, 2, 3]);
    const t = weight!.toTensor();
    expect(t).toBeInstanceOf(Tensor);
    expect([...t.data]).toEqual([1, 2, 3]);
    expect(t.shape).toEqual([3]);
    const buffers = Object.fromEntries(bn.namedBuffers());
    expect(buffers.num_batches_tracked!.integer).toBe(true);
    expect(buffers.running_var!.shape).toEqual([3]);
    bn.dispose();
  });

  it('training learns the parameters and updates the buffers (running statistics, the batch counter)', () => {
    const m = hashWeights(new nn.Sequential(new nn.Linear(4, 3), new nn.BatchNorm1d(3), new nn.ReLU(), new nn.Linear(3, 2)), 5);
    const before = Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, [...t.data]]));
    const x = tensor(Array.from({ length: 8 * 4 }, (_, i) => Math.sin(i)), [8, 4]);
    const y = tensor([0, 1, 1, 0, 1, 0, 0, 1], [8]);
    m.trainStep(x, y, { optimizer: new optim.SGD({ lr: 0.1 }) });
    const after = m.stateDict();
    for (const [k] of m.namedParameters()) expect([...after[k]!.data], `${k} learned`).not.toEqual(before[k]);
    expect([...after['1.running_mean']!.data]).not.toEqual(before['1.running_mean']);
    expect([...after['1.num_batches_tracked']!.data]).toEqual([1]);
    m.dispose();
  });
});
