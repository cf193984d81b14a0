/**
 * Every nn layer against PyTorch (test/golden/layers.safetensors from tools/gen_layer_goldens.py), in every
 * kernel variant. Tolerance 1e-5 abs + 1e-4 rel: float32 sums of up to ~600 products computed in another
 * order (and with fma in the relaxed variant), and approximate tanh/sigmoid/exp with ~1e-6 error.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/nn/index.js';
import { init, BACKENDS } from '../../src/runtime/runtime.js';
import { Golden } from '../golden/load.js';
import { expectClose } from '../kernels/harness.js';

const CASES: Record<string, () => nn.Module> = {
  conv3x3_p1: () => new nn.Conv2d(3, 8, 3, { padding: 1 }),
  conv5x5_s2_p2: () => new nn.Conv2d(4, 6, 5, { stride: 2, padding: 2 }),
  conv3x3_d2_g2: () => new nn.Conv2d(4, 6, 3, { padding: 2, dilation: 2, groups: 2 }),
  conv1x1_nobias: () => new nn.Conv2d(16, 10, 1, { bias: false }),
  conv11x11_s4_p2: () => new nn.Conv2d(3, 8, 11, { stride: 4, padding: 2 }),
  conv_depthwise: () => new nn.Conv2d(6, 6, 3, { padding: 1, groups: 6 }),
  conv_rect: () => new nn.Conv2d(3, 5, [3, 1], { stride: [2, 1], padding: [1, 0] }),
  linear: () => new nn.Linear(37, 19),
  linear_nobias: () => new nn.Linear(8, 3, { bias: false }),
  maxpool_ceil: () => new nn.MaxPool2d(3, { stride: 2, ceilMode: true }),
  maxpool_pad_dil: () => new nn.MaxPool2d(3, { stride: 2, padding: 1, dilation: 2 }),
  avgpool_ceil_pad: () => new nn.AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true }),
  avgpool_ceil_pad_nocount: () => new nn.AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
  avgpool_divisor: () => new nn.AvgPool2d(2, { divisorOverride: 3 }),
  adaptive_avg: () => new nn.AdaptiveAvgPool2d([3, 5]),
  adaptive_avg_global: () => new nn.AdaptiveAvgPool2d(1),
  adaptive_max: () => new nn.AdaptiveMaxPool2d([2, 3]),
  bn2d: () => new nn.BatchNorm2d(5),
  bn1d: () => new nn.BatchNorm1d(7),
  lrn: () => new nn.LocalResponseNorm(5, { alpha: 1e-2, beta: 0.75, k: 2 }),
  softmax: () => new nn.Softmax(1),
  log_softmax: () => new nn.LogSoftmax(-1),
  softmax_channels: () => new nn.Softmax(1),
  relu: () => new nn.ReLU(),
  tanh: () => new nn.Tanh(),
  sigmoid: () => new nn.Sigmoid(),
  flatten: () => new nn.Flatten(),
  sequential: () => new nn.Sequential(
    new nn.Conv2d(3, 8, 3, { padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(8 * 4 * 4, 10), new nn.BatchNorm1d(10), new nn.Tanh(), new nn.Dropout(0.5),
    new nn.Linear(10, 4), new nn.Sigmoid()),
  sequential_bn_act: () => new nn.Sequential(new nn.BatchNorm2d(4), new nn.ReLU(), new nn.Conv2d(4, 3, 1), new nn.Tanh()),
};

const golden = new Golden('layers.safetensors');

describe.each(BACKENDS)('nn layers vs PyTorch (%s)', (backend) => {
  beforeAll(async () => {
    await init({ backend });
  });
  it.each(Object.keys(CASES))('%s', (name) => {
    const layer = CASES[name]();
    layer.loadStateDict(golden.stateDict(name));
    const x = golden.tensor(`${name}.input`);
    const want = golden.tensor(`${name}.expected`);
    const got = layer.forward(x);
    expect(got.shape).toEqual(want.shape);
    expectClose(got.data, want.data, 1e-5, 1e-4, `${name} (${backend})`);
    // A second call reuses the plan and gives the same numbers.
    expect(layer.forward(x).data).toEqual(got.data);
    layer.dispose();
  });
});
