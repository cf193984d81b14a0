/**
 * Backpropagation through time against PyTorch (test/golden/rnn_train/steps.safetensors from
 * tools/gen_rnn_train_goldens.py): one training step of stacked, bidirectional and batch-first RNN/LSTM/GRU
 * models (also unbatched input and batch 1), an Embedding in front of an LSTM and the encoder-decoder with
 * teacher forcing: the loss and every parameter gradient, in every variant.
 * Weights are the shared closed-form hash.
 *
 * Tolerances: gradients 2e-5 abs + 2e-3 rel, losses 1e-5 rel, as test/train/train.test.ts: float32 sums in
 * another order (fma in the relaxed variant) and the sigmoid/tanh approximations (abs error <= 1.5e-7),
 * through up to 6 timesteps x 2 layers of BPTT.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/nn/index.js';
import { SequenceGRU, SequenceLSTM } from '../../src/models/seq.js';
import { Seq2Seq } from '../../src/models/seq2seq.js';
import { hashWeights } from '../../src/models/hashweights.js';
import { init, BACKENDS } from '../../src/runtime/runtime.js';
import { Adam, SGD } from '../../src/train/optim.js';
import { Trainer } from '../../src/train/trainer.js';
import type { LossName } from '../../src/train/loss.js';
import { Golden } from '../golden/load.js';
import { tensor, type Tensor } from '../../src/tensor.js';
import { expectClose } from '../kernels/harness.js';

const golden = new Golden('rnn_train/steps.safetensors');

interface Case {
  make: () => nn.Module;
  seed: number;
  loss: LossName;
}

const CASES: Record<string, Case> = {
  lstm_cls: { make: () => new SequenceLSTM({ inputSize: 5, hiddenSize: 8, numLayers: 2, outputSize: 3, head: 'last' }), seed: 21, loss: 'crossEntropy' },
  lstm_m2m: { make: () => new SequenceLSTM({ inputSize: 4, hiddenSize: 6, numLayers: 2, outputSize: 2, head: 'every' }), seed: 22, loss: 'mse' },
  gru_cls: { make: () => new SequenceGRU({ inputSize: 5, hiddenSize: 7, numLayers: 2, outputSize: 4, head: 'last' }), seed: 23, loss: 'crossEntropy' },
  lstm_bi: { make: () => new nn.Sequential(new nn.LSTM(4, 6, { numLayers: 2, bidirectional: true }), new nn.Linear(12, 3)), seed: 24, loss: 'mse' },
  gru_bi_bf: { make: () => new nn.Sequential(new nn.GRU(3, 5, { numLayers: 2, bidirectional: true, batchFirst: true }), new nn.Linear(10, 2)), seed: 25, loss: 'mse' },
  gru_nobias: { make: () => new nn.Sequential(new nn.GRU(3, 4, { bias: false }), new nn.Linear(4, 2)), seed: 26, loss: 'mse' },
  rnn_tanh_bi: { make: () => new nn.Sequential(new nn.RNN(4, 5, { numLayers: 2, bidirectional: true }), new nn.Linear(10, 3)), seed: 27, loss: 'mse' },
  rnn_relu_bf: { make: () => new nn.Sequential(new nn.RNN(3, 6, { numLayers: 2, nonlinearity: 'relu', batchFirst: true }), new nn.Linear(6, 2)), seed: 28, loss: 'mse' },
  embed_lstm: { make: () => new nn.Sequential(new nn.Embedding(10, 4, { paddingIdx: 0 }), new nn.LSTM(4, 5, { batchFirst: true }), new nn.Linear(5, 3)), seed: 29, loss: 'mse' },
  lstm_unbatched: { make: () => new nn.Sequential(new nn.LSTM(3, 4, { numLayers: 2 }), new nn.Linear(4, 2)), seed: 31, loss: 'mse' },
  gru_b1_bf_3l: { make: () => new nn.Sequential(new nn.GRU(2, 3, { numLayers: 3, batchFirst: true, bidirectional: true }), new nn.Linear(6, 2)), seed: 32, loss: 'mse' },
  // teacher forcing: gradients reach the encoder only through the decoder's initial (h, c)
  seq2seq: { make: () => new Seq2Seq({ srcVocab: 9, tgtVocab: 8, embeddingDim: 4, hiddenSize: 5, numLayers: 2 }), seed: 30, loss: 'mse' },
};

describe.each(BACKENDS)('BPTT vs PyTorch (%s)', (backend) => {
  beforeAll(async () => {
    await init({ backend });
  });
  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: loss and every gradient of one step`, () => {
      const x = golden.tensor(`${name}.input`);
      const y = golden.tensor(`${name}.target`);
      const m = hashWeights(c.make(), c.seed);
      const trainer = new Trainer(m, { loss: c.loss, optimizer: new SGD({ lr: 0 }) });
      const loss = trainer.step(x, y);
      expectClose([loss], golden.tensor(`${name}.loss`).data, 0, 1e-5, `${name} loss`);
      for (const s of trainer.store.slots) {
        expectClose(trainer.rt.arena.read(s.grad, s.size), golden.tensor(`${name}.grad.${s.name}`).data, 2e-5, 2e-3, `${name} grad ${s.name} (${backend})`);
      }
      trainer.dispose();
      m.dispose();
    });
  }
});

describe.each(BACKENDS)('three Adam steps vs PyTorch (%s)', (backend) => {
  beforeAll(async () => {
    await init({ backend });
  });
  for (const name of ['lstm_cls', 'gru_cls']) {
    it(`${name}: losses and updated weights`, () => {
      const c = CASES[name];
      const x = golden.tensor(`${name}.input`), y = golden.tensor(`${name}.target`);
      const m = hashWeights(c.make(), c.seed);
      const optimizer = new Adam({ lr: 2e-3 });
      const losses = [0, 1, 2].map(() => m.trainStep(x, y, { optimizer }));
      expectClose(losses, golden.tensor(`${name}.adam.losses`).data, 1e-6, 1e-4, `${name} losses`);
      m.forward(x); // syncs trained values back into the Parameters
      // Adam divides by sqrt(v) + eps: 1e-4 abs + 1e-3 rel as test/train/train.test.ts
      for (const [k, p] of m.namedParameters()) expectClose(p.data, golden.tensor(`${name}.adam.${k}`).data, 1e-4, 1e-3, `${name} ${k} (${backend})`);
      m.dispose();
    });
  }
});

describe('recurrent training behaviour', () => {
  it('allocates nothing in the arena after the first step', async () => {
    const rt = await init({ backend: 'relaxed' });
    const m = hashWeights(CASES.lstm_cls.make(), 21);
    const x = golden.tensor('lstm_cls.input'), y = golden.tensor('lstm_cls.target');
    const optimizer = new SGD({ lr: 0.1 });
    m.trainStep(x, y, { optimizer });
    const hw = rt.arena.highWater, used = rt.arena.used;
    for (let i = 0; i < 5; i++) m.trainStep(x, y, { optimizer });
    expect(rt.arena.highWater).toBe(hw);
    expect(rt.arena.used).toBe(used);
    m.dispose();
  });

  it('dropout between stacked layers: seeded masks, same seed same gradients, p = 0 equals no dropout', async () => {
    await init();
    const x = golden.tensor('lstm_cls.input'), y = golden.tensor('lstm_cls.target');
    const grads = (dropout: number, seed: number) => {
      const m = hashWeights(new SequenceLSTM({ inputSize: 5, hiddenSize: 8, numLayers: 2, outputSize: 3, dropout }), 21);
      const t = new Trainer(m, { optimizer: new SGD({ lr: 0 }), seed });
      t.step(x, y);
      const out = t.store.slots.map((s) => t.rt.arena.read(s.grad, s.size));
      t.dispose();
      m.dispose();
      return out;
    };
    const base = grads(0, 1), a = grads(0.5, 1), b = grads(0.5, 1), c = grads(0.5, 2);
    expect(a).toEqual(b);
    expect(a[0]).not.toEqual(base[0]); // layer 0 sees the mask through layer 1's input
    expect(a[0]).not.toEqual(c[0]);
    expect(a[4]).not.toEqual(base[4]); // layer 1's W_ih reads the dropped input
    for (let i = 0; i < base.length; i++) expectClose(base[i], golden.tensor(`lstm_cls.grad.${['lstm.weight_ih_l0', 'lstm.weight_hh_l0', 'lstm.bias_ih_l0', 'lstm.bias_hh_l0', 'lstm.weight_ih_l1', 'lstm.weight_hh_l1', 'lstm.bias_ih_l1', 'lstm.bias_hh_l1', 'head.weight', 'head.bias'][i]}`).data, 2e-5, 2e-3, 'p = 0');
  });

  it('refuses out-of-range token ids in training by name', async () => {
    await init();
    const m = new nn.Sequential(new nn.Embedding(10, 4), new nn.LSTM(4, 5, { batchFirst: true }), new nn.Linear(5, 3));
    const x = golden.tensor('embed_lstm.input'), y = golden.tensor('embed_lstm.target');
    x.data[5] = 10;
    expect(() => m.trainStep(x, y, { loss: 'mse' })).toThrow(/token id at flat index 5 is 10; ids must be integers in \[0, 10\)/);
    m.dispose();
  });

  it('a sequence classifier learns through fit (loss falls)', async () => {
    await init();
    const m = new SequenceGRU({ inputSize: 2, hiddenSize: 8, numLayers: 1, outputSize: 2 });
    // class = sign of the sum of the first feature over the sequence
    const N = 64, T = 5;
    const x = new Float32Array(N * T * 2), y = new Float32Array(N);
    let s = 1;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    for (let i = 0; i < N; i++) {
      let sum = 0;
      for (let t = 0; t < T; t++) { const v = rnd(); x[(i * T + t) * 2] = v; x[(i * T + t) * 2 + 1] = rnd(); sum += v; }
      y[i] = sum > 0 ? 1 : 0;
    }
    const { Tensor } = await import('../../src/tensor.js');
    const h = await m.fit(new Tensor(x, [N, T, 2]), new Tensor(y, [N]), { epochs: 30, batchSize: 16, optimizer: new Adam({ lr: 0.02 }) });
    expect(h.epochs[29].loss).toBeLessThan(h.epochs[0].loss * 0.5);
    m.dispose();
  });
});

describe('trained weights reach submodules', () => {
  it("a submodule's forward after the parent's trainStep uses the trained weights", async () => {
    await init();
    const x = golden.tensor('lstm_cls.input'), y = golden.tensor('lstm_cls.target');
    const m = hashWeights(CASES.lstm_cls.make(), 21) as SequenceLSTM;
    const xs = tensor(x.data.slice(), x.shape);
    const out0 = Array.from(m.lstm.forward(xs).data);
    m.trainStep(x, y, { optimizer: new SGD({ lr: 1 }) });
    const out1 = Array.from(m.lstm.forward(xs).data); // no parent call in between
    m.forward(x);
    expect(out1).not.toEqual(out0);
    expect(Array.from(m.lstm.forward(xs).data)).toEqual(out1);
    m.dispose();
  });
});

describe('Seq2Seq: evaluate, validation, trained weights in decoding', () => {
  const make = () => hashWeights(CASES.seq2seq.make(), CASES.seq2seq.seed) as Seq2Seq;

  /** The teacher-forced token loss and accuracy the slow way: encode(), then decodeStep() token by token. */
  function oracle(m: Seq2Seq, x: Tensor, y: Tensor): { loss: number; accuracy: number } {
    const [N, S] = x.shape, T = y.shape[1];
    const rows = Array.from({ length: N }, (_, b) => Array.from(x.data.subarray(b * S, (b + 1) * S)));
    let state = m.encode(rows);
    let tokens = new Array<number>(N).fill(m.bos);
    let loss = 0, correct = 0, count = 0;
    for (let t = 0; t < T; t++) {
      const r = m.decodeStep(tokens, state);
      state = r.state;
      const V = m.tgtVocab;
      tokens = [];
      for (let b = 0; b < N; b++) {
        const want = y.data[b * T + t];
        const ignored = want === m.pad || want < 0;
        tokens.push(ignored ? m.pad : want);
        if (ignored) continue;
        const lp = r.logProbs.data.subarray(b * V, (b + 1) * V);
        loss -= lp[want];
        let best = 0;
        for (let j = 1; j < V; j++) if (lp[j] > lp[best]) best = j;
        if (best === want) correct++;
        count++;
      }
    }
    return { loss: loss / count, accuracy: correct / count };
  }

  it('evaluate: the token loss equals PyTorch (teacher forcing) and a decodeStep loop, at any batchSize', async () => {
    await init();
    const x = golden.tensor('seq2seq.input'), y = golden.tensor('seq2seq.target');
    const m = make();
    const e = m.evaluate(x, y);
    // losses 1e-5 rel, as the BPTT cases above (float32 sums in another order, the gate approximations)
    expectClose([e.loss], golden.tensor('seq2seq.loss').data, 0, 1e-5, 'evaluate loss vs PyTorch');
    const o = oracle(m, x, y);
    // the oracle sums log-softmax terms in f64 in JS, evaluate sums the kernel's f64 per batch: same 1e-5
    expectClose([e.loss], [o.loss], 0, 1e-5, 'evaluate loss vs decodeStep');
    expect(e.accuracy).toBe(o.accuracy);
    const e1 = m.evaluate(x, y, { batchSize: 1 });
    // the same logits (rows do not interact), only the per-batch partial sums group differently
    expectClose([e1.loss], [e.loss], 0, 1e-6, 'batchSize 1');
    expect(e1.accuracy).toBe(e.accuracy);
    expect(() => m.evaluate(x, y, { loss: 'bceWithLogits' })).toThrow(/token cross-entropy/);
    expect(() => m.evaluate(x, tensor(new Float32Array(y.data.length).fill(-1), y.shape))).toThrow(/every target position is padding/);
    m.dispose();
  });

  it('fit with validationSplit reports evaluate() on the held-out rows; decoding sees trainStep at once', async () => {
    await init();
    const x = golden.tensor('seq2seq.input'), y = golden.tensor('seq2seq.target');
    const N = x.shape[0];
    const m = make();
    const h = await m.fit(x, y, { epochs: 2, batchSize: 2, validationSplit: 0.5, optimizer: new Adam({ lr: 1e-2 }), shuffle: false });
    const cut = Math.floor(N * 0.5);
    const rows = (t: Tensor, a: number, b: number) => {
      const w = t.data.length / t.shape[0];
      return tensor(t.data.slice(a * w, b * w), [b - a, ...t.shape.slice(1)]);
    };
    const v = m.evaluate(rows(x, cut, N), rows(y, cut, N));
    // the same rows through the same plan; 1e-6 only for the batch grouping (fit evaluates in batches of 256)
    expectClose([h.epochs[1].valLoss!], [v.loss], 0, 1e-6, 'valLoss');
    expect(h.epochs[1].valAccuracy).toBe(v.accuracy);
    // decodeStep right after trainStep uses the trained weights (no forward in between to sync them)
    const src = [Array.from(x.data.subarray(0, x.shape[1]))];
    const before = m.decodeStep([m.bos], m.encode(src)).logProbs.data;
    m.trainStep(x, y, { optimizer: new SGD({ lr: 1 }) });
    const after = m.decodeStep([m.bos], m.encode(src)).logProbs.data;
    const copy = new Seq2Seq({ srcVocab: 9, tgtVocab: 8, embeddingDim: 4, hiddenSize: 5, numLayers: 2 }).loadStateDict(m.stateDict());
    expect(Array.from(after)).not.toEqual(Array.from(before));
    expect(Array.from(after)).toEqual(Array.from(copy.decodeStep([m.bos], copy.encode(src)).logProbs.data));
    m.dispose();
    copy.dispose();
  });
});
