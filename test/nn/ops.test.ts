/**
 * The op table (src/nn/ops.ts) against the layers it makes: for each op, on sample attributes and inputs,
 * the shape rule predicts exactly the shape the layer's forward produces, a bad input is refused by the
 * rule as by the layer, and `trainable` says truly whether a training step can be recorded.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { OPS, op, type OpName } from '../../src/nn/ops.js';
import * as nn from '../../src/nn/index.js';
import { init } from '../../src/runtime/runtime.js';
import { Tensor, numel } from '../../src/tensor.js';
import { WasmzooError } from '../../src/errors.js';
import '../../src/train/trainer.js';

const SAMPLES: Record<OpName, { attrs: any; input: number[]; bad: number[] }[]> = {
  conv2d: [
    { attrs: { inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1 }, input: [2, 3, 7, 6], bad: [2, 4, 7, 6] },
    { attrs: { inChannels: 4, outChannels: 6, kernelSize: [3, 1], stride: 2, dilation: [1, 2], groups: 2 }, input: [1, 4, 9, 8], bad: [1, 4, 1, 1] },
    { attrs: { inChannels: 2, outChannels: 2, kernelSize: 3, padding: 'same', dilation: 2 }, input: [1, 2, 6, 6], bad: [2, 6, 6] },
  ],
  linear: [{ attrs: { inFeatures: 5, outFeatures: 3 }, input: [4, 5], bad: [4, 6] }, { attrs: { inFeatures: 5, outFeatures: 2, bias: false }, input: [2, 3, 5], bad: [5, 2] }],
  max_pool2d: [{ attrs: { kernelSize: 3, stride: 2, ceilMode: true, padding: 1 }, input: [1, 2, 8, 7], bad: [8, 7] }],
  avg_pool2d: [{ attrs: { kernelSize: 2, ceilMode: true }, input: [2, 3, 5, 5], bad: [3, 5, 5] }],
  adaptive_avg_pool2d: [{ attrs: { outputSize: [2, null] }, input: [1, 3, 5, 4], bad: [3, 5, 4] }],
  adaptive_max_pool2d: [{ attrs: { outputSize: 2 }, input: [1, 3, 5, 4], bad: [3, 5] }],
  batch_norm2d: [{ attrs: { numFeatures: 3 }, input: [2, 3, 4, 4], bad: [2, 4, 4, 4] }],
  batch_norm1d: [{ attrs: { numFeatures: 3 }, input: [4, 3], bad: [4, 5] }],
  local_response_norm: [{ attrs: { size: 3 }, input: [1, 4, 3, 3], bad: [4, 3] }],
  relu: [{ attrs: {}, input: [2, 5], bad: [] }],
  tanh: [{ attrs: {}, input: [1, 2, 3, 3], bad: [] }],
  sigmoid: [{ attrs: {}, input: [3, 4], bad: [] }],
  leaky_relu: [{ attrs: { negativeSlope: 0.2 }, input: [3, 4], bad: [] }, { attrs: { negativeSlope: -1 }, input: [2, 2], bad: [] }],
  softmax: [{ attrs: { dim: -1 }, input: [3, 4], bad: [] }],
  log_softmax: [{ attrs: { dim: 1 }, input: [3, 4], bad: [] }],
  flatten: [{ attrs: {}, input: [2, 3, 4, 5], bad: [] }, { attrs: { startDim: 0 }, input: [2, 3], bad: [] }],
  dropout: [{ attrs: { p: 0.3 }, input: [4, 6], bad: [] }],
  identity: [{ attrs: {}, input: [2, 2], bad: [] }],
  embedding: [{ attrs: { numEmbeddings: 7, embeddingDim: 3 }, input: [2, 5], bad: [] }],
  rnn: [{ attrs: { inputSize: 4, hiddenSize: 3, nonlinearity: 'relu' }, input: [5, 2, 4], bad: [5, 2, 3] }],
  lstm: [{ attrs: { inputSize: 4, hiddenSize: 3, numLayers: 2, bidirectional: true }, input: [5, 2, 4], bad: [5, 2, 5] }],
  gru: [{ attrs: { inputSize: 4, hiddenSize: 3, batchFirst: true }, input: [2, 5, 4], bad: [2, 5] }],
};

function throwsShape(f: () => unknown): boolean {
  try {
    f();
  } catch (e) {
    return e instanceof WasmzooError && (e.code === 'E_SHAPE');
  }
  return false;
}

describe('the op table', () => {
  beforeAll(async () => {
    await init();
  });

  it('covers every op with samples', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(Object.keys(OPS).sort());
    expect(() => op('conv3d')).toThrow(/unknown op "conv3d": known ops are conv2d, linear/);
  });

  for (const [name, samples] of Object.entries(SAMPLES)) {
    samples.forEach(({ attrs, input, bad }, i) => {
      it(`${name} #${i}: shape rule = layer output; training as the table says`, () => {
        const def = op(name);
        const x = new Tensor(new Float32Array(numel(input)), input);
        const y = def.layer(attrs).forward(x);
        expect(def.shape(input, attrs)).toEqual([...y.shape]);
        if (bad.length) {
          expect(throwsShape(() => def.shape(bad, attrs))).toBe(true);
          expect(throwsShape(() => def.layer(attrs).forward(new Tensor(new Float32Array(numel(bad)), bad)))).toBe(true);
        }
        // behind a layer with parameters, so the op's input needs a gradient and its backward is recorded
        const last = input[input.length - 1];
        const net = name === 'embedding' ? def.layer(attrs)
          : new nn.Sequential(input.length === 4 ? new nn.Conv2d(input[1], input[1], 1) : new nn.Linear(last, last), def.layer(attrs));
        let trained = true;
        try {
          net.trainStep(x, new Tensor(new Float32Array(y.data.length), [...y.shape]), { loss: 'mse' });
        } catch (e) {
          if (!(e instanceof WasmzooError && /not supported in training/.test(e.message))) throw e;
          trained = false;
        }
        expect(trained).toBe(def.trainable(attrs));
      });
    });
  }
});
