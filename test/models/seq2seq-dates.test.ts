/**
 * The shipped date translator (weights/seq2seq-dates.safetensors, trained in wasmzoo by
 * examples/train-seq2seq.mjs): the weights load (F16, widened to f32) with both tokenizers' alphabets from
 * the file's metadata, and greedy decoding reaches its trained quality on a committed held-out sample
 * (test/golden/rnn_train/dates-heldout.json: sentences never seen in training), in every variant.
 * The model expects sources left-padded with PAD to metadata.src_len characters.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { init, BACKENDS } from '../../src/runtime/runtime.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { Seq2Seq } from '../../src/models/seq2seq.js';
import { CharTokenizer, PAD } from '../../src/models/tokenizer.js';

const bytes = new Uint8Array(readFileSync(new URL('../../weights/seq2seq-dates.safetensors', import.meta.url)));
const meta = readSafetensors(bytes).metadata as Record<string, string>;
const sample: { pairs: [string, string][] } = JSON.parse(readFileSync(new URL('../golden/rnn_train/dates-heldout.json', import.meta.url), 'utf8'));

describe.each(BACKENDS)('shipped seq2seq dates model (%s)', (backend) => {
  it('translates held-out sentences with >= 98% exact match', async () => {
    await init({ backend });
    const src = new CharTokenizer(meta.src_alphabet), tgt = new CharTokenizer(meta.tgt_alphabet);
    const S = Number(meta.src_len);
    const model = new Seq2Seq({ srcVocab: src.vocabSize, tgtVocab: tgt.vocabSize, embeddingDim: Number(meta.embedding_dim), hiddenSize: Number(meta.hidden_size), numLayers: Number(meta.num_layers) });
    model.loadStateDict(bytes);
    const ids = (t: string) => { const e = src.encode(t); return new Array(S - e.length).fill(PAD).concat(e); };
    let ok = 0;
    const wrong: string[] = [];
    for (let i = 0; i < sample.pairs.length; i += 50) {
      const chunk = sample.pairs.slice(i, i + 50);
      model.greedy(chunk.map(([t]) => ids(t)), { maxLength: 12 }).forEach((out, j) => {
        const got = tgt.decode(out);
        if (got === chunk[j][1]) ok++;
        else wrong.push(`${chunk[j][0]} -> ${got} (want ${chunk[j][1]})`);
      });
    }
    expect(ok / sample.pairs.length, wrong.join('\n')).toBeGreaterThanOrEqual(0.98);
    model.dispose();
  });
});
