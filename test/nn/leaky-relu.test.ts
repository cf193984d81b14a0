/**
 * LeakyReLU against PyTorch (test/golden/leaky_relu.safetensors from tools/gen_leaky_relu_goldens.py):
 * standalone (after a pooling layer) and fused into Linear, Linear + BatchNorm1d, Conv2d + BatchNorm2d
 * (im2col) and a Winograd conv; the eval-mode output, and one training step's MSE loss and every parameter
 * gradient (the fused epilogue in training, the standalone backward, batch norm's epilogue), in every
 * kernel variant. A negative slope runs forward and is refused in training.
 *
 * Tolerances: outputs 1e-5 abs + 1e-4 rel (f32 sums in another order, batch norm folded into the conv);
 * losses 1e-5 rel; gradients 2e-5 abs + 2e-3 rel, as test/train/train.test.ts (sums over batch and pixels).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/nn/index.js';
import { init, BACKENDS } from '../../src/runtime/runtime.js';
import { SGD } from '../../src/train/optim.js';
import { Trainer } from '../../src/train/trainer.js';
import { WasmzooError } from '../../src/errors.js';
import { Golden } from '../golden/load.js';
import { expectClose } from '../kernels/harness.js';

const golden = new Golden('leaky_relu.safetensors');

const CASES: Record<string, () => nn.Module> = {
  linear: () => new nn.Sequential(new nn.Linear(9, 6), new nn.LeakyReLU(0.2), new nn.Linear(6, 3)),
  linear_bn: () => new nn.Sequential(new nn.Linear(9, 6), new nn.BatchNorm1d(6), new nn.LeakyReLU(), new nn.Linear(6, 3)),
  conv_bn: () => new nn.Sequential(new nn.Conv2d(2, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.LeakyReLU(0.05), new nn.Flatten(), new nn.Linear(4 * 5 * 5, 3)),
  conv_winograd: () => new nn.Sequential(new nn.Conv2d(8, 6, 3, { padding: 1 }), new nn.LeakyReLU(0.3), new nn.Flatten(), new nn.Linear(6 * 6 * 6, 2)),
  standalone: () => new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.MaxPool2d(2), new nn.LeakyReLU(0.1), new nn.Flatten(), new nn.Linear(4 * 3 * 3, 3)),
  negative_slope: () => new nn.Sequential(new nn.Linear(9, 6), new nn.LeakyReLU(-0.5), new nn.Linear(6, 3)),
};

describe.each(BACKENDS)('LeakyReLU vs PyTorch (%s)', (backend) => {
  beforeAll(async () => {
    await init({ backend });
  });

  it('has PyTorch\'s default slope and keeps it', () => {
    expect(new nn.LeakyReLU().negativeSlope).toBe(0.01);
    expect(new nn.LeakyReLU(0.2).act).toMatchObject({ name: 'leaky_relu', alpha: 0.2 });
  });

  for (const [name, make] of Object.entries(CASES)) {
    it(`${name}: eval output`, () => {
      const m = make().loadStateDict(golden.stateDict(name, ['input', 'expected', 'target', 'loss', 'grad']));
      const y = m.forward(golden.tensor(`${name}.input`));
      expectClose(y.data, golden.tensor(`${name}.expected`).data, 1e-5, 1e-4, `${name} output`);
    });
    if (name === 'negative_slope') continue;
    it(`${name}: loss and gradients of one training step`, () => {
      const m = make().loadStateDict(golden.stateDict(name, ['input', 'expected', 'target', 'loss', 'grad']));
      const trainer = new Trainer(m, { loss: 'mse', optimizer: new SGD({ lr: 0 }) });
      const loss = trainer.step(golden.tensor(`${name}.input`), golden.tensor(`${name}.target`));
      expectClose([loss], golden.tensor(`${name}.loss`).data, 0, 1e-5, `${name} loss`);
      for (const s of trainer.store.slots) {
        expectClose(trainer.rt.arena.read(s.grad, s.size), golden.tensor(`${name}.grad.${s.name}`).data, 2e-5, 2e-3, `${name} grad ${s.name}`);
      }
      trainer.dispose();
    });
  }

  it('a negative slope is refused in training, naming the layer and the slope', () => {
    const m = CASES.negative_slope();
    let err: unknown;
    try {
      m.trainStep(golden.tensor('negative_slope.input'), golden.tensor('negative_slope.expected'), { loss: 'mse' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WasmzooError);
    expect((err as WasmzooError).message).toMatch(/^Sequential\[0\]: leaky_relu with a negative slope \(-0\.5\) is not supported in training yet/);
  });
});
