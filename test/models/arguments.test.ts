/**
 * The models' public entries check what they are given (issue 12):
 * - every builder refuses an unknown option before starting anything, with the key meant (`lenet5({ weight:
 *   'fashion-mnist' })` built random weights), and so does every model constructor and `download`;
 * - forward() with a bare Float32Array says to wrap it (it was a TypeError "reading 'every'");
 * - seq2seq takes Tensors of ids wherever ids go (a [1, 56] Tensor said "empty source"), checked against the
 *   PyTorch decode loop (test/golden/rnn/seq2seq.safetensors, tools/gen_rnn_goldens.py).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/runtime/runtime.js';
import {
  Autoencoder, CharTokenizer, GoogLeNet, LeNet5, ResNet, Seq2Seq, SequenceLSTM, VAE, VGG, WasmzooError, autoencoder, lenet5,
  seq2seq, sequenceGRU, sequenceLSTM, tensor, vae, zoo, zooNames,
} from '../../src/index.js';
import { Golden } from '../golden/load.js';
import { wasmzooError } from '../helpers/errors.js';

const error = wasmzooError;

const SEQ = { inputSize: 5, hiddenSize: 12, numLayers: 2, outputSize: 3 };
const S2S = { srcVocab: 12, tgtVocab: 12, embeddingDim: 8, hiddenSize: 24, numLayers: 2 };

const builders: [string, (o: object) => Promise<unknown>][] = [
  ['lenet5', (o) => lenet5(o)], ['autoencoder', (o) => autoencoder(o)], ['vae', (o) => vae(o)],
  ['seq2seq', (o) => seq2seq({ ...S2S, ...o })], ['sequenceLSTM', (o) => sequenceLSTM({ ...SEQ, ...o })], ['sequenceGRU', (o) => sequenceGRU({ ...SEQ, ...o })],
  ...zooNames.map((n) => [n, (o: object) => zoo[n].build(o)] as [string, (o: object) => Promise<unknown>]),
];

describe('model arguments', () => {
  beforeAll(() => init({ threads: 1 }));

  it.each(builders)('%s() refuses an unknown option, listing its own and the shared ones', async (name, build) => {
    const e = await error(() => build({ not_an_option: 1 }));
    expect(e.code).toBe('E_ARGUMENT');
    expect(e.message).toMatch(new RegExp(`^${name}: unknown option "not_an_option"; its options are .*weights, download, strict, init$`));
    expect((await error(() => build({ weight: 'x' }))).message).toMatch(/unknown option "weight" \(did you mean "weights"\?\)/);
    expect((await error(() => build({ download: { sha265: 'ab' } }))).message).toMatch(new RegExp(`^${name}: download: unknown option "sha265" \\(did you mean "sha256"\\?\\)`));
    expect((await error(() => build({ init: { thread: 1 } }))).message).toMatch(/^init: unknown option "thread" \(did you mean "threads"\?\)/);
  });

  it('suggests the keys meant', async () => {
    expect((await error(() => lenet5({ weight: 'fashion-mnist' } as never))).message).toBe(
      'lenet5: unknown option "weight" (did you mean "weights"?); its options are activation, pooling, numClasses, inChannels, weights, download, strict, init');
    expect((await error(() => zoo.resnet18.build({ num_classes: 10 } as never))).message).toMatch(/^resnet18: unknown option "num_classes" \(did you mean "numClasses"\?\)/);
    expect((await error(() => zoo.vgg11.build({ winogard: false } as never))).message).toMatch(/\(did you mean "winograd"\?\)/);
    expect((await error(() => zoo.googlenet.build({ transform_input: true } as never))).message).toMatch(/\(did you mean "transformInput"\?\)/);
    expect((await error(() => zoo.resnet18.build({ transformInput: true } as never))).message).toMatch(/^resnet18: unknown option "transformInput"/);
    expect((await error(() => seq2seq({ ...S2S, hidden_size: 8 } as never))).message).toMatch(/\(did you mean "hiddenSize"\?\)/);
  });

  it('every model constructor checks its options too', async () => {
    const cases: [string, () => unknown][] = [
      ['lenet5', () => new LeNet5({ num_classes: 3 } as never)], ['resnet18', () => new ResNet('resnet18', { winograd: false } as never)],
      ['vgg11', () => new VGG('vgg11', { pool: 'avg' } as never)], ['googlenet', () => new GoogLeNet({ aux_logits: true } as never)],
      ['autoencoder', () => new Autoencoder({ layer: [4, 2] } as never)], ['vae', () => new VAE({ latentSize: 2 } as never)],
      ['seq2seq', () => new Seq2Seq({ ...S2S, layers: 1 } as never)], ['sequence_lstm', () => new SequenceLSTM({ ...SEQ, bidirectional: true } as never)],
    ];
    for (const [name, make] of cases) {
      const e = await error(make);
      expect(e.code, name).toBe('E_ARGUMENT');
      expect(e.message, name).toMatch(new RegExp(`^${name}: unknown option`));
    }
  });

  it('lenet.forward(new Float32Array(784)) says to wrap it in a Tensor', async () => {
    const m = await lenet5();
    const e = await error(() => m.forward(new Float32Array(784) as never));
    expect(e.code).toBe('E_ARGUMENT');
    expect(e.message).toBe('lenet5: input must be a Tensor, got Float32Array; wrap it with wasmzoo.tensor(data, shape)');
    expect((await error(() => m.predict(new Float32Array(784) as never))).message).toMatch(/^lenet5\.predict: x must be a Tensor, got Float32Array/);
    m.dispose();
    const ae = new Autoencoder();
    expect((await error(() => ae.anomalyScore(new Float32Array(784) as never))).message).toMatch(/^autoencoder\.anomalyScore: input must be a Tensor/);
    expect((await error(() => ae.reconstruct([0.5] as never))).message).toMatch(/^autoencoder\.reconstruct: input must be a Tensor, got an array/);
    ae.dispose();
    const v = new VAE({ inputSize: 4, hidden: 3, latent: 2 });
    expect((await error(() => v.interpolate(new Float32Array(4) as never, new Float32Array(4) as never))).message).toMatch(/^vae\.interpolate: xa must be a Tensor/);
    expect((await error(() => v.sample(2, { sed: 1 } as never))).message).toMatch(/^vae\.sample: unknown option "sed" \(did you mean "seed"\?\)/);
    v.dispose();
  });
});

describe('seq2seq takes Tensors of ids', () => {
  const golden = new Golden('rnn/seq2seq.safetensors');
  const rows = (key: string): number[][] => {
    const t = golden.tensor(key);
    const [R, C] = t.shape as [number, number];
    return Array.from({ length: R }, (_, r) => Array.from(t.data.subarray(r * C, (r + 1) * C)).filter((v) => v >= 0));
  };
  let m: Seq2Seq;
  beforeAll(async () => {
    await init({ threads: 1 });
    m = new Seq2Seq(S2S).loadStateDict(golden.stateDict('s2s'));
  });

  it('greedy: a [B, S] Tensor, a [1, S] Tensor, a 1-D Tensor and typed arrays give the PyTorch decode', () => {
    const src = rows('greedy.src');
    const want = rows('greedy.ids');
    const S = src[0]!.length;
    expect(m.greedy(tensor(src.flat(), [src.length, S]), { maxLength: 12 })).toEqual(want);
    expect(m.greedy(tensor(src[1]!, [1, S]), { maxLength: 12 })).toEqual([want[1]]);
    expect(m.greedy(tensor(src[1]!, [S]), { maxLength: 12 })).toEqual([want[1]]);
    expect(m.greedy(Int32Array.from(src[1]!), { maxLength: 12 })).toEqual([want[1]]);
    expect(m.greedy(src.map((r) => Float32Array.from(r)) as never, { maxLength: 12 })).toEqual(want);
  });

  it('beamSearch, encode and decodeStep take Tensors as they take arrays', () => {
    const src = rows('beam1.src')[0]!;
    const t = tensor(src, [1, src.length]);
    expect(m.beamSearch(t, { beamWidth: 3, maxLength: 12 })).toEqual(m.beamSearch(src, { beamWidth: 3, maxLength: 12 }));
    const a = m.encode(t), b = m.encode(src);
    expect([...a.h.data]).toEqual([...b.h.data]);
    const step = m.decodeStep(tensor([1], [1]), a);
    expect([...step.logProbs.data]).toEqual([...m.decodeStep([1], b).logProbs.data]);
  });

  it('refuses what is not ids, and batches where one sequence goes', async () => {
    const e = await error(() => m.greedy('4 5 6' as never));
    expect(e.code).toBe('E_ARGUMENT');
    expect(e.message).toBe('seq2seq.greedy: source ids must be an array [S], rows [B, S] or a Tensor, got string');
    expect((await error(() => m.greedy(tensor(new Float32Array(8), [2, 2, 2])))).message).toMatch(/^seq2seq\.greedy: source ids must be \[S\] or \[B, S\], got a Tensor of shape \[2, 2, 2\]/);
    expect((await error(() => m.beamSearch(tensor([4, 5, 6, 7], [2, 2])))).message).toMatch(/^seq2seq\.beamSearch: decodes one source sequence \(\[S\] or \[1, S\]\), got 2 rows/);
    expect((await error(() => m.greedy([4, 5], { max_length: 3 } as never))).message).toMatch(/^seq2seq\.greedy: unknown option "max_length" \(did you mean "maxLength"\?\)/);
    expect((await error(() => m.beamSearch([4, 5], { beam_width: 3 } as never))).message).toMatch(/\(did you mean "beamWidth"\?\)/);
  });

  it("the tokenizer's decode takes a 1-D Tensor", () => {
    const tok = new CharTokenizer('abc');
    expect(tok.decode(tensor(tok.encode('cab', { eos: true }), [4]))).toBe('cab');
  });
});
