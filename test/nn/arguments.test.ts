/**
 * Every public entry of the layers says what it expected (issue 12): a layer constructor with a mistyped
 * option (`new nn.LSTM(8, 16, { num_layers: 2 })` gave one layer), init() with an unknown option or backend,
 * forward() with a bare Float32Array (a TypeError "reading 'every'"), and the options of Module's methods,
 * the optimizers, the tokenizer and the image helpers. Each is an E_ARGUMENT naming the entry.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/runtime/runtime.js';
import { CharTokenizer, WasmzooError, nn, optim, preprocess, resize, tensor } from '../../src/index.js';
import { wasmzooError } from '../helpers/errors.js';

const error = wasmzooError;

// Every layer with options: its constructor with one bogus option, and the options it takes.
const withOptions: [string, (o: object) => nn.Module][] = [
  ['Conv2d', (o) => new nn.Conv2d(3, 4, 3, o)], ['Linear', (o) => new nn.Linear(4, 2, o)],
  ['MaxPool2d', (o) => new nn.MaxPool2d(2, o)], ['AvgPool2d', (o) => new nn.AvgPool2d(2, o)],
  ['BatchNorm1d', (o) => new nn.BatchNorm1d(4, o)], ['BatchNorm2d', (o) => new nn.BatchNorm2d(4, o)],
  ['LocalResponseNorm', (o) => new nn.LocalResponseNorm(2, o)], ['RNN', (o) => new nn.RNN(4, 3, o)],
  ['LSTM', (o) => new nn.LSTM(4, 3, o)], ['GRU', (o) => new nn.GRU(4, 3, o)], ['Embedding', (o) => new nn.Embedding(5, 3, o)],
];

// Every layer, for forward() with the wrong kind of input.
const layers: [string, () => nn.Module][] = [
  ...withOptions.map(([n, make]) => [n, () => make({})] as [string, () => nn.Module]),
  ['ReLU', () => new nn.ReLU()], ['LeakyReLU', () => new nn.LeakyReLU()], ['Tanh', () => new nn.Tanh()], ['Sigmoid', () => new nn.Sigmoid()],
  ['Softmax', () => new nn.Softmax()], ['LogSoftmax', () => new nn.LogSoftmax()], ['Flatten', () => new nn.Flatten()],
  ['Dropout', () => new nn.Dropout()], ['Identity', () => new nn.Identity()], ['Unflatten', () => new nn.Unflatten([1, 2, 2])],
  ['Upsample', () => new nn.Upsample()], ['AdaptiveAvgPool2d', () => new nn.AdaptiveAvgPool2d(1)], ['AdaptiveMaxPool2d', () => new nn.AdaptiveMaxPool2d(1)],
  ['Sequential', () => new nn.Sequential(new nn.Linear(4, 2))],
];

describe('layer arguments', () => {
  beforeAll(() => init({ threads: 1 }));

  it.each(withOptions)('new nn.%s refuses an unknown option, naming the layer', async (name, make) => {
    const e = await error(() => make({ not_an_option: 1 }));
    expect(e.code).toBe('E_ARGUMENT');
    expect(e.message).toMatch(new RegExp(`^${name}: unknown option "not_an_option"; its options are \\w+`));
    // PyTorch's positional habit, e.g. nn.Linear(4, 2, False)
    expect((await error(() => make(false as never))).message).toMatch(new RegExp(`^${name}: options must be an object`));
  });

  it('suggests the camelCase key for PyTorch spellings', async () => {
    expect((await error(() => new nn.LSTM(8, 16, { num_layers: 2 } as never))).message).toMatch(/^LSTM: unknown option "num_layers" \(did you mean "numLayers"\?\)/);
    expect((await error(() => new nn.GRU(8, 16, { batch_first: true } as never))).message).toMatch(/\(did you mean "batchFirst"\?\)/);
    expect((await error(() => new nn.Conv2d(1, 2, 3, { paddding: 1 } as never))).message).toMatch(/\(did you mean "padding"\?\)/);
    expect((await error(() => new nn.MaxPool2d(2, { ceil_mode: true } as never))).message).toMatch(/\(did you mean "ceilMode"\?\)/);
    expect((await error(() => new nn.Embedding(5, 3, { padding_idx: 0 } as never))).message).toMatch(/\(did you mean "paddingIdx"\?\)/);
    expect(new nn.LSTM(8, 16, { numLayers: 2 }).numLayers).toBe(2);
  });

  it.each(layers)('%s.forward(Float32Array) says what it expected', async (name, make) => {
    const layer = make();
    const e = await error(() => layer.forward(new Float32Array(4) as never));
    expect(e.code).toBe('E_ARGUMENT');
    const what = name === 'Embedding' ? 'ids' : 'input';
    expect(e.message).toBe(`${name}: ${what} must be a Tensor, got Float32Array; wrap it with wasmzoo.tensor(data, shape)`);
    expect((await error(() => layer.forward([1, 2, 3, 4] as never))).message).toMatch(new RegExp(`^${name}: ${what} must be a Tensor, got an array`));
    layer.dispose();
  });

  it("Module's methods check their options", async () => {
    const m = new nn.Sequential(new nn.Linear(4, 2));
    const x = tensor(new Float32Array(8), [2, 4]);
    const y = tensor([0, 1], [2]);
    expect((await error(() => m.predict(x, { batch_size: 1 } as never))).message).toMatch(/^Sequential\.predict: unknown option "batch_size" \(did you mean "batchSize"\?\)/);
    expect((await error(() => m.fit(x, y, { epoch: 2 } as never))).message).toMatch(/^Sequential\.fit: unknown option "epoch" \(did you mean "epochs"\?\)/);
    expect((await error(() => m.trainStep(x, y, { epochs: 2 } as never))).message).toMatch(/^Sequential\.trainStep: unknown option "epochs"/);
    expect((await error(() => m.evaluate(x, y, { lossFn: 'mse' } as never))).message).toMatch(/^Sequential\.evaluate: unknown option "lossFn"/);
    expect((await error(() => m.loadStateDict(m.stateDict(), { stict: false } as never))).message).toMatch(/^Sequential\.loadStateDict: unknown option "stict" \(did you mean "strict"\?\)/);
    // the documented ones still work
    expect(m.predict(x, { batchSize: 1 }).shape).toEqual([2, 2]);
    expect((await m.fit(x, y, { epochs: 1, batchSize: 2, loss: 'crossEntropy' })).epochs).toHaveLength(1);
    expect(m.evaluate(x, y, { batchSize: 1 }).loss).toBeGreaterThan(0);
    m.dispose();
  });

  it('optimizers, schedulers, the tokenizer and the image helpers check their options', async () => {
    expect((await error(() => new optim.SGD({ lr: 0.1, weight_decay: 1e-4 } as never))).message).toMatch(/^SGD: unknown option "weight_decay" \(did you mean "weightDecay"\?\)/);
    expect((await error(() => new optim.SGD(0.1 as never))).message).toMatch(/^SGD: options must be an object/);
    expect((await error(() => new optim.AdamW({ beta: [0.9, 0.99] } as never))).message).toMatch(/^AdamW: unknown option "beta" \(did you mean "betas"\?\)/);
    const adam = new optim.Adam();
    expect((await error(() => new optim.StepLR(adam, { step_size: 2 } as never))).message).toMatch(/^StepLR: unknown option "step_size" \(did you mean "stepSize"\?\)/);
    expect((await error(() => new optim.CosineAnnealingLR(adam, { T_max: 2 } as never))).message).toMatch(/^CosineAnnealingLR: unknown option "T_max" \(did you mean "tMax"\?\)/);
    const tok = new CharTokenizer('ab');
    expect((await error(() => tok.encode('ab', { addEos: true } as never))).message).toMatch(/^CharTokenizer\.encode: unknown option "addEos"/);
    expect((await error(() => tok.decode([4], { stop_at_eos: false } as never))).message).toMatch(/\(did you mean "stopAtEos"\?\)/);
    expect(tok.decode(tensor([4, 5, 2, 4], [4]))).toBe('ab');
    const img = { data: new Uint8Array(4 * 4 * 3), width: 4, height: 4, channels: 3 };
    expect((await error(() => preprocess(img, { center_crop: 2 } as never))).message).toMatch(/^preprocess: unknown option "center_crop"/);
    expect((await error(() => preprocess(img, { interpolation: 'nearest' } as never))).message).toMatch(/^preprocess: interpolation must be 'bilinear'/);
    expect(preprocess(img, { crop: 2, interpolation: 'bilinear' }).shape).toEqual([1, 3, 2, 2]);
    expect((await error(() => resize(new Float32Array(4) as never, 2))).message).toMatch(/^resize: input must be a Tensor, got Float32Array/);
  });

  it("init() refuses unknown options and backends, naming the three", async () => {
    expect((await error(() => init({ thread: 2 } as never))).message).toMatch(/^init: unknown option "thread" \(did you mean "threads"\?\)/);
    const e = await error(() => init({ backend: 'gpu' as never }));
    expect(e.code).toBe('E_ARGUMENT');
    expect(e.message).toBe(`init: backend must be one of 'relaxed', 'simd', 'scalar', got "gpu"`);
  });
});
