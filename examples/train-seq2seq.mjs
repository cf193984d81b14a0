// Trains the LSTM encoder-decoder (src/models/seq2seq.ts) on dates written in words -> ISO dates
// (examples/dates.mjs) with teacher forcing, in wasmzoo (single thread); reports held-out exact match of
// greedy decoding per epoch and saves F16 weights with both tokenizers' alphabets in the metadata.
//   npm run build && node --experimental-wasm-relaxed-simd examples/train-seq2seq.mjs [epochs] [out.safetensors]
// Sources are left-padded with PAD to SRC_LEN characters (so the encoder's last steps are the text itself);
// the shipped model expects the same (see srcIds below and test/models/seq2seq-dates.test.ts).
import { writeFileSync } from 'node:fs';
import * as wasmzoo from '../dist/wasmzoo.mjs';
import { splits, SOURCE_ALPHABET, TARGET_ALPHABET } from './dates.mjs';

const epochs = Number(process.argv[2] ?? 20);
const out = process.argv[3];
export const SRC_LEN = 56, TGT_LEN = 11; // 10 ISO characters + EOS
const hidden = Number(process.env.HIDDEN ?? 128), emb = Number(process.env.EMB ?? 16), batchSize = 64;
const data = splits({ train: Number(process.env.TRAIN ?? 20000), test: 1000, seed: 1 });
const src = new wasmzoo.CharTokenizer(SOURCE_ALPHABET), tgt = new wasmzoo.CharTokenizer(TARGET_ALPHABET);

const srcIds = (text) => {
  const ids = src.encode(text);
  return new Array(SRC_LEN - ids.length).fill(wasmzoo.PAD).concat(ids);
};
const x = wasmzoo.tensor(Float32Array.from(data.train.flatMap((p) => srcIds(p.text))), [data.train.length, SRC_LEN]);
const y = wasmzoo.tensor(Float32Array.from(data.train.flatMap((p) => tgt.encode(p.iso, { eos: true }))), [data.train.length, TGT_LEN]);

await wasmzoo.init();
wasmzoo.nn.manualSeed(0);
const model = new wasmzoo.Seq2Seq({ srcVocab: src.vocabSize, tgtVocab: tgt.vocabSize, embeddingDim: emb, hiddenSize: hidden, numLayers: 1 });

function exactMatch(pairs) {
  let ok = 0;
  for (let i = 0; i < pairs.length; i += 100) {
    const chunk = pairs.slice(i, i + 100);
    const outs = model.greedy(chunk.map((p) => srcIds(p.text)), { maxLength: TGT_LEN + 1 });
    outs.forEach((ids, j) => { if (tgt.decode(ids) === chunk[j].iso) ok++; });
  }
  return ok / pairs.length;
}

console.log(`seq2seq dates: LSTM ${emb}-${hidden} encoder/decoder (${model.parameterCount()} parameters), ${data.train.length} train / ${data.test.length} held-out sentences, backend ${wasmzoo.backend()}, ${epochs} epochs, batch ${batchSize}, Adam lr 3e-3 cosine, clip 1`);
const optimizer = new wasmzoo.optim.Adam({ lr: 3e-3 });
let last = 0;
const history = await model.fit(x, y, {
  epochs, batchSize, optimizer, clipGradNorm: 1, seed: 1,
  scheduler: (opt) => new wasmzoo.optim.CosineAnnealingLR(opt, { tMax: epochs }),
  onEpochEnd: (l) => {
    last = exactMatch(data.test);
    console.log(`epoch ${l.epoch}: token loss ${l.loss.toFixed(4)}, held-out exact match ${last.toFixed(4)} (${l.seconds.toFixed(1)} s)`);
  },
});
const secs = history.epochs.map((e) => e.seconds);
console.log(`held-out exact match ${last.toFixed(4)}; mean epoch ${(secs.reduce((a, b) => a + b, 0) / secs.length).toFixed(1)} s`);
for (const p of data.test.slice(0, 5)) console.log(`  ${p.text} -> ${tgt.decode(model.greedy(srcIds(p.text), { maxLength: TGT_LEN + 1 })[0])}`);
if (out) {
  // F16 halves the file; the reader widens it back to f32
  const tensors = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, { dtype: 'F16', shape: t.shape, data: t.data }]));
  writeFileSync(out, wasmzoo.writeSafetensors(tensors, {
    model: 'seq2seq', task: 'dates in words -> ISO 8601 (examples/dates.mjs)', src_alphabet: SOURCE_ALPHABET, tgt_alphabet: TARGET_ALPHABET,
    src_len: String(SRC_LEN), padding: 'left, PAD', embedding_dim: String(emb), hidden_size: String(hidden), num_layers: '1',
    heldout_exact_match: last.toFixed(4), trainer: 'examples/train-seq2seq.mjs (wasmzoo)',
  }));
  console.log('wrote', out);
}
