/**
 * The sequence zoo models against PyTorch (tools/gen_rnn_goldens.py), in every kernel variant:
 * - SequenceLSTM (test/golden/rnn/seq.safetensors): many-to-one and many-to-many heads, 1e-5 abs + 1e-4 rel
 *   (float32 sums of up to 12 products per gate over 9 steps and 2 layers; measured errors ~1e-7).
 * - Seq2Seq (test/golden/rnn/seq2seq.safetensors: a small encoder-decoder trained for a few hundred steps to
 *   reverse sequences, so decodes end with EOS at varied lengths and beams differ): greedy ids equal
 *   PyTorch's decode loop exactly (the generator asserts every argmax wins by > 1e-3, far above our ~1e-6
 *   error); beam search equals the Python reference of the same algorithm (ids exactly; scores, sums of
 *   up to 7 log-probabilities, within 1e-4); width 1 equals greedy.
 * Plus the tokenizer, bad input, and a flat arena after the first call with a shape.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init, BACKENDS } from '../../src/runtime/runtime.js';
import { WasmzooError } from '../../src/errors.js';
import { tensor } from '../../src/tensor.js';
import { SequenceLSTM, sequenceLSTM } from '../../src/models/seq.js';
import { Seq2Seq, seq2seq } from '../../src/models/seq2seq.js';
import { BOS, CharTokenizer, EOS, PAD, UNK } from '../../src/models/tokenizer.js';
import { Golden } from '../golden/load.js';
import { expectClose } from '../kernels/harness.js';

const seqGolden = new Golden('rnn/seq.safetensors');
const s2sGolden = new Golden('rnn/seq2seq.safetensors');
const s2sWeights = s2sGolden.stateDict('s2s');
const OPTS = { srcVocab: 12, tgtVocab: 12, embeddingDim: 8, hiddenSize: 24, numLayers: 2 };

/** Rows of a -1-padded id matrix as arrays. */
function idRows(key: string): number[][] {
  const t = s2sGolden.tensor(key);
  const [R, C] = t.shape;
  return Array.from({ length: R }, (_, r) => Array.from(t.data.subarray(r * C, (r + 1) * C)).filter((v) => v >= 0));
}

describe.each(BACKENDS)('sequence zoo vs PyTorch (%s)', (backend) => {
  beforeAll(async () => {
    await init({ backend });
  });

  for (const head of ['last', 'every'] as const) {
    it(`SequenceLSTM, head '${head}'`, async () => {
      const name = head === 'last' ? 'many_to_one' : 'many_to_many';
      const m = await sequenceLSTM({ inputSize: 5, hiddenSize: 12, numLayers: 2, outputSize: 3, head, weights: seqGolden.stateDict(name) });
      const got = m.forward(seqGolden.tensor(`${name}.input`));
      const want = seqGolden.tensor(`${name}.expected`);
      expect(got.shape).toEqual(want.shape);
      expectClose(got.data, want.data, 1e-5, 1e-4, `${name} (${backend})`);
      m.dispose();
    });
  }

  it('Seq2Seq greedy decode equals the PyTorch decode loop', async () => {
    const m = await seq2seq({ ...OPTS, weights: s2sWeights });
    const src = idRows('greedy.src');
    expect(m.greedy(src, { maxLength: 12 })).toEqual(idRows('greedy.ids'));
    // one row alone decodes the same as inside the batch
    expect(m.greedy(src[1], { maxLength: 12 })).toEqual([idRows('greedy.ids')[1]]);
    m.dispose();
  });

  it('Seq2Seq beam search equals the reference implementation; width 1 equals greedy', async () => {
    const m = await seq2seq({ ...OPTS, weights: s2sWeights });
    for (let i = 0; i < 3; i++) {
      const [width, alpha, maxLength] = Array.from(s2sGolden.tensor(`beam${i}.config`).data);
      const src = idRows(`beam${i}.src`)[0];
      const got = m.beamSearch(src, { beamWidth: width, lengthPenalty: alpha, maxLength });
      expect(got.map((h) => h.ids)).toEqual(idRows(`beam${i}.ids`));
      expectClose(got.map((h) => h.score), s2sGolden.tensor(`beam${i}.scores`).data, 1e-4, 1e-5, `beam${i} scores (${backend})`);
      expectClose(got.map((h) => h.logProb), s2sGolden.tensor(`beam${i}.logprobs`).data, 1e-4, 1e-5, `beam${i} log-probs (${backend})`);
      const one = m.beamSearch(src, { beamWidth: 1, maxLength });
      expect(one.length).toBe(1);
      expect(one[0].ids).toEqual(m.greedy(src, { maxLength })[0]);
    }
    m.dispose();
  });
});

describe('Seq2Seq behaviour', () => {
  beforeAll(async () => {
    await init();
  });

  it('beam hypotheses are ranked by the GNMT-normalised score; alpha 0 ranks by log-probability', async () => {
    const m = await seq2seq({ ...OPTS, weights: s2sWeights });
    const src = idRows('beam1.src')[0];
    for (const alpha of [0, 0.6, 2]) {
      const hyps = m.beamSearch(src, { beamWidth: 3, lengthPenalty: alpha, maxLength: 12 });
      for (const h of hyps) expect(h.score).toBeCloseTo(h.logProb / Math.pow((5 + h.ids.length + (h.finished ? 1 : 0)) / 6, alpha), 10);
      for (let i = 1; i < hyps.length; i++) expect(hyps[i - 1].score).toBeGreaterThanOrEqual(hyps[i].score);
    }
    // cut at maxLength: unfinished hypotheses of exactly maxLength tokens
    const cut = m.beamSearch(src, { beamWidth: 2, maxLength: 2 });
    expect(cut.every((h) => !h.finished && h.ids.length === 2)).toBe(true);
  });

  it('encode + decodeStep: the thought vector is the encoder\'s final (h, c); steps match greedy', async () => {
    const m = await seq2seq({ ...OPTS, weights: s2sWeights });
    const src = idRows('greedy.src')[0];
    const st = m.encode(src);
    expect(st.h.shape).toEqual([2, 1, 24]);
    expect(st.c!.shape).toEqual([2, 1, 24]);
    const { logProbs } = m.decodeStep([BOS], st);
    expect(logProbs.shape).toEqual([1, 12]);
    expect(logProbs.data.reduce((s, v) => s + Math.exp(v), 0)).toBeCloseTo(1, 5);
    expect(logProbs.argmax()[0]).toBe(idRows('greedy.ids')[0][0]);
  });

  it('refuses bad ids, ragged batches and wrong states, naming the layer and shapes', async () => {
    const m = await seq2seq({ ...OPTS, weights: s2sWeights });
    expect(() => m.greedy([4, 5, 12])).toThrow(/seq2seq\.src_embed: token id at flat index 2 of ids \[1, 3\] is 12; ids must be integers in \[0, 12\)/);
    expect(() => m.greedy([4, 5.5])).toThrow(/is 5\.5/);
    expect(() => m.greedy([4, -1])).toThrow(WasmzooError);
    expect(() => m.greedy([[4, 5], [6]])).toThrow(/source row 1 has 1 ids but row 0 has 2/);
    expect(() => m.greedy([])).toThrow(/empty source/);
    const st = m.encode([4, 5]);
    expect(() => m.decodeStep([BOS, BOS], st)).toThrow(/seq2seq\.decoder: state\.h must be \[2, 2, 24\] \(numLayers, tokens, hiddenSize\), got \[2, 1, 24\]/);
    expect(() => m.decodeStep([99], st)).toThrow(/seq2seq\.tgt_embed: token id at flat index 0 of ids \[1\] is 99/);
    expect(() => m.beamSearch([4, 5], { beamWidth: 0 })).toThrow(/beamWidth must be a positive integer/);
    expect(() => m.greedy([4, 5], { maxLength: 0 })).toThrow(/maxLength must be a positive integer/);
    expect(() => m.forward(tensor([[4, 77]]))).toThrow(/token id at flat index 1/);
    expect(() => new Seq2Seq({ ...OPTS, eos: 12 })).toThrow(/eos id must be in \[0, tgtVocab = 12\)/);
  });

  it('state_dict keys are the PyTorch attribute names; forward() gives the encoder outputs', async () => {
    const m = new Seq2Seq(OPTS);
    expect(Object.keys(m.stateDict()).sort()).toEqual(Object.keys(s2sWeights).sort());
    m.loadStateDict(s2sWeights);
    expect(m.forward(tensor([[4, 5, 6]])).shape).toEqual([1, 3, 24]);
  });

  it('allocates nothing in the arena after the first decode with each shape', async () => {
    const rt = await init({ backend: 'relaxed' });
    const m = await seq2seq({ ...OPTS, weights: s2sWeights });
    const seq = new SequenceLSTM({ inputSize: 5, hiddenSize: 12, outputSize: 3 }).loadStateDict(seqGolden.stateDict('many_to_one'));
    const x = seqGolden.tensor('many_to_one.input');
    const src = idRows('greedy.src');
    const run = () => {
      m.greedy(src, { maxLength: 12 });
      m.beamSearch(src[0], { beamWidth: 3, maxLength: 12 });
      seq.forward(x);
    };
    run();
    const hw = rt.arena.highWater, mem = rt.arena.memory.buffer.byteLength, used = rt.arena.used;
    for (let i = 0; i < 20; i++) run();
    expect(rt.arena.highWater).toBe(hw);
    expect(rt.arena.memory.buffer.byteLength).toBe(mem);
    expect(rt.arena.used).toBe(used);
    m.dispose();
    seq.dispose();
    expect(rt.arena.used).toBeLessThan(used);
    expect(() => m.greedy(src)).toThrow(/used after dispose/);
  });
});

describe('CharTokenizer', () => {
  it('encodes code points after the 4 special ids and decodes back', () => {
    const tok = new CharTokenizer('abcé😀');
    expect([PAD, BOS, EOS, UNK]).toEqual([0, 1, 2, 3]);
    expect(tok.vocabSize).toBe(9);
    expect(tok.encode('cab😀', { bos: true, eos: true })).toEqual([BOS, 6, 4, 5, 8, EOS]);
    expect(tok.encode('xé')).toEqual([UNK, 7]);
    expect(tok.decode([BOS, 6, 4, UNK, 8, EOS, 5])).toBe('ca\uFFFD😀');
    expect(tok.decode([6, EOS, 5], { stopAtEos: false })).toBe('cb');
    expect(tok.encodeBatch(['ab', 'c'], { eos: true })).toEqual([[4, 5, EOS], [6, EOS, PAD]]);
    expect(() => tok.decode([42])).toThrow(/id 42 is outside the vocabulary \[0, 9\)/);
  });
  it('builds an alphabet from texts, round-trips through JSON, and refuses duplicates', () => {
    const tok = CharTokenizer.fromTexts(['hello', 'world']);
    expect(tok.chars.join('')).toBe('dehlorw');
    const again = CharTokenizer.fromJSON(JSON.parse(JSON.stringify(tok)));
    expect(again.encode('low')).toEqual(tok.encode('low'));
    expect(() => new CharTokenizer('aba')).toThrow(/"a" appears twice/);
  });
});
