/**
 * An LSTM encoder-decoder (Sutskever et al. 2014, "Sequence to Sequence Learning with Neural Networks"):
 *
 *   src_embed  nn.Embedding(srcVocab, embeddingDim, padding_idx=PAD)
 *   encoder    nn.LSTM(embeddingDim, hiddenSize, numLayers, batch_first=True)   its final (h, c): the thought vector
 *   tgt_embed  nn.Embedding(tgtVocab, embeddingDim, padding_idx=PAD)
 *   decoder    nn.LSTM(embeddingDim, hiddenSize, numLayers, batch_first=True)   starts from the encoder's (h, c)
 *   out        nn.Linear(hiddenSize, tgtVocab)                                   log_softmax over the target vocabulary
 *
 * Ids in, ids out; special ids as src/models/tokenizer.ts (PAD 0, BOS 1, EOS 2, UNK 3). state_dict keys are the
 * attribute names above (tools/gen_rnn_goldens.py has the PyTorch class, a reference greedy loop and the
 * reference beam search this file is tested against).
 *
 * Decoding
 * - greedy(src, { maxLength }): argmax each step from BOS; a row ends at EOS (not returned). Batched: all
 *   sources of one call have the same length (pad with PAD yourself: PAD is an ordinary token to this model).
 * - beamSearch(src, { beamWidth, maxLength, lengthPenalty }): fairseq-style constant-width beam. Each step
 *   scores every (hypothesis, token) by cumulative log-probability and keeps the 2*beamWidth best (ties:
 *   lower hypothesis index, then lower token id); candidates ending in EOS that rank within the first
 *   beamWidth become final, the first beamWidth others continue. It stops once beamWidth hypotheses are final
 *   (or after maxLength steps: the open ones become final). Final hypotheses are ranked by
 *   score / lp(len) with GNMT's length penalty lp(len) = ((5 + len) / 6)^alpha (Wu et al. 2016), len = generated
 *   tokens including EOS; alpha = lengthPenalty (0 ranks by raw log-probability). Width 1 is exactly greedy.
 *
 * Planning: encode() and decodeStep() each run an IOPlan (several inputs/outputs, src/graph/ioplan.ts),
 * one per input shape, so after the first call with a shape nothing is allocated in the arena; the decode
 * loops themselves (argmax, candidate selection, reordering beam states) are plain JavaScript.
 */
import { wordIndex } from '../runtime/arena.js';
import { PlanCache } from '../graph/plancache.js';
import { WasmzooError } from '../errors.js';
import { checkOptions, optionKeys } from '../options.js';
import { runtime } from '../runtime/runtime.js';
import { buildModel, type BuildOptions } from './build.js';
import { builtinNames } from './builtin.js';
import type { BaseModelMeta, TextPreprocessing } from './meta.js';
import { Tensor, argmaxAt, tensorArg } from '../tensor.js';
import { at, type GraphBuilder, type Value } from '../graph/graph.js';
import { Module } from '../nn/module.js';
import { Embedding } from '../nn/layers/embedding.js';
import { Linear } from '../nn/layers/linear.js';
import { IOPlan } from '../graph/ioplan.js';
import { LSTM, RecurrentState, reshapeValue } from '../nn/layers/rnn.js';
import { isTraining, type TrainGraph } from '../graph/tape.js';
import type { FitOptions, History, LossName, TrainOptions } from '../graph/training.js';
import { BOS, CharTokenizer, EOS, PAD } from './tokenizer.js';

export interface Seq2SeqOptions {
  srcVocab: number;
  tgtVocab: number;
  embeddingDim: number;
  hiddenSize: number;
  /** Stacked LSTM layers in the encoder and in the decoder (default 2). */
  numLayers?: number;
  /** Ids (defaults: tokenizer.ts's PAD 0, BOS 1, EOS 2). */
  pad?: number;
  bos?: number;
  eos?: number;
}

const SEQ2SEQ_OPTION_KEYS = optionKeys<Seq2SeqOptions>({ srcVocab: 1, tgtVocab: 1, embeddingDim: 1, hiddenSize: 1, numLayers: 1, pad: 1, bos: 1, eos: 1 });
const EVALUATE_OPTION_KEYS = optionKeys<{ loss?: LossName; batchSize?: number }>({ loss: 1, batchSize: 1 });
const GREEDY_OPTION_KEYS = optionKeys<GreedyOptions>({ maxLength: 1 });
const BEAM_OPTION_KEYS = optionKeys<BeamOptions>({ maxLength: 1, beamWidth: 1, lengthPenalty: 1 });

/**
 * Token ids, wherever a Seq2Seq method takes them: one sequence [S] (an array, a typed array or a 1-D
 * Tensor) or a batch [B, S] of equal-length rows (arrays of arrays, or a 2-D Tensor such as
 * `wasmzoo.tensor(tokenizer.encodeBatch(texts))`).
 */
export type TokenIds = ArrayLike<number> | readonly (readonly number[])[] | Tensor;

export interface GreedyOptions {
  /** Most tokens generated per sequence, EOS included (default 64). */
  maxLength?: number;
}

export interface BeamOptions extends GreedyOptions {
  /** Hypotheses kept (default 4). */
  beamWidth?: number;
  /** alpha of GNMT's length penalty ((5 + len) / 6)^alpha (default 0.6; 0 = raw log-probability). */
  lengthPenalty?: number;
}

export interface Hypothesis {
  /** Generated ids, without BOS and EOS. */
  ids: number[];
  /** Ranking score: logProb / ((5 + len) / 6)^alpha. */
  score: number;
  /** Sum of the token log-probabilities (EOS included when the hypothesis ended with it). */
  logProb: number;
  /** Whether it ended with EOS (false: cut at maxLength). */
  finished: boolean;
}

export class Seq2Seq extends Module {
  readonly srcEmbed: Embedding;
  readonly encoder: LSTM;
  readonly tgtEmbed: Embedding;
  readonly decoder: LSTM;
  readonly out: Linear;
  readonly bos: number;
  readonly eos: number;
  readonly pad: number;
  private readonly ioPlans = new PlanCache<IOPlan>(this, (p) => p.dispose());
  /**
   * The character tokenisation the loaded weights were trained with, from their metadata (src_alphabet,
   * tgt_alphabet, src_len, padding: what examples/train-seq2seq.mjs writes), or null. Set by
   * `wasmzoo.seq2seq`; `meta.preprocessing` reports it.
   */
  text: TextPreprocessing | null = null;
  /** Written by evaluate()'s planned ops at run time. */
  private evalSums = { loss: 0, correct: 0, count: 0 };

  constructor(opts: Seq2SeqOptions) {
    super('seq2seq');
    opts = checkOptions('seq2seq', opts, SEQ2SEQ_OPTION_KEYS);
    const L = opts.numLayers ?? 2;
    const pad = opts.pad ?? PAD;
    this.pad = pad;
    this.bos = opts.bos ?? BOS;
    this.eos = opts.eos ?? EOS;
    for (const [n, v] of [['bos', this.bos], ['eos', this.eos]] as const) {
      if (!Number.isInteger(v) || v < 0 || v >= opts.tgtVocab) throw new WasmzooError('E_ARGUMENT', `seq2seq: ${n} id must be in [0, tgtVocab = ${opts.tgtVocab}), got ${v}`);
    }
    this.srcEmbed = this.child('src_embed', new Embedding(opts.srcVocab, opts.embeddingDim, { paddingIdx: pad < opts.srcVocab ? pad : undefined }));
    this.encoder = this.child('encoder', new LSTM(opts.embeddingDim, opts.hiddenSize, { numLayers: L, batchFirst: true }));
    this.tgtEmbed = this.child('tgt_embed', new Embedding(opts.tgtVocab, opts.embeddingDim, { paddingIdx: pad < opts.tgtVocab ? pad : undefined }));
    this.decoder = this.child('decoder', new LSTM(opts.embeddingDim, opts.hiddenSize, { numLayers: L, batchFirst: true }));
    this.out = this.child('out', new Linear(opts.hiddenSize, opts.tgtVocab));
  }

  get numLayers(): number {
    return this.encoder.numLayers;
  }

  get tgtVocab(): number {
    return this.out.outFeatures;
  }

  /** Source ids of any length in; the tokenisation of the loaded weights when their metadata names one. */
  get meta(): BaseModelMeta<TextPreprocessing> {
    return Object.freeze({
      name: this.name, numParams: this.parameterCount(), inputSize: [-1], preprocessing: this.text, categories: null,
      reference: 'Sutskever et al. 2014, arXiv:1409.3215 (tools/gen_rnn_goldens.py)',
    });
  }

  /** Module interface: the encoder's output sequence [B, S, hiddenSize] for source ids [B, S]. */
  build(g: GraphBuilder, ids: Value): Value {
    return this.encoder.build(g, this.srcEmbed.build(g, ids));
  }

  override forward(ids: Tensor): Tensor {
    ids = tensorArg(this.name, ids, 'ids');
    this.srcEmbed.checkIds(ids.data, ids.shape);
    return super.forward(ids);
  }

  // ---- training (teacher forcing) ----

  /**
   * Training objective for fit / trainStep (the Trainer calls this instead of build + a loss): source ids x
   * [B, S], target ids y [B, T] = the wanted output followed by EOS, padded at the end with PAD (or -1).
   * The decoder reads BOS + y[:, :-1] from the encoder's final (h, c) (teacher forcing) and the loss is the
   * token cross-entropy over every non-pad target position, averaged over those positions (PyTorch's
   * CrossEntropyLoss(ignore_index=PAD)). Gradients flow back through the decoder's initial state into the
   * encoder. Returns the logits [B*T, tgtVocab].
   */
  buildTrainingLoss(g: TrainGraph, x: Value, target: Value, holder: { value: number }): Value {
    const { logits, labels, count, n } = this.buildTeacherForced(g, x, target);
    const V = this.tgtVocab;
    const k = g.rt.k;
    const dlogits = g.value([n, V]);
    g.op(`${this.name}.cross_entropy`, [logits, labels], (p) => {
      const scale = count.value > 0 ? 1 / count.value : 0;
      holder.value = k.softmax_cross_entropy(at(p, dlogits), at(p, logits), at(p, labels), n, V, scale);
    });
    g.addGrad(logits, dlogits);
    return logits;
  }

  /**
   * The teacher-forced decoder shared by training and evaluate(): logits [B*T, tgtVocab] for source ids x
   * [B, S] and target ids [B, T], the i32 labels (-1 where ignored) and, at run time, the count of kept tokens.
   */
  private buildTeacherForced(g: GraphBuilder, x: Value, target: Value): { logits: Value; labels: Value; count: { value: number }; n: number } {
    if (x.shape.length !== 2 || target.shape.length !== 2 || target.shape[0] !== x.shape[0]) {
      throw new WasmzooError('E_SHAPE', `${this.name}: training needs source ids [B, S] and target ids [B, T] (ending in EOS, PAD after), got [${x.shape.join(', ')}] and [${target.shape.join(', ')}]`);
    }
    const [B, T] = target.shape;
    const V = this.tgtVocab, H = this.decoder.hiddenSize, n = B * T;
    const { bos, pad } = this;
    const enc = this.encoder.buildRecurrent(g, this.srcEmbed.build(g, x));
    // decoder input BOS + target[:, :-1] (ignored positions read PAD) and i32 labels (-1 = ignored)
    const decIn = g.value([B, T]);
    const labels = g.value([n]);
    const count = { value: 0 };
    if (isTraining(g)) g.constant(decIn);
    g.op(`${this.name}.teacher_forcing`, [target], (p) => {
      const f32 = g.rt.arena.f32, i32 = g.rt.arena.i32;
      const tp = wordIndex(at(p, target)), dp = wordIndex(at(p, decIn)), lp = wordIndex(at(p, labels));
      let c = 0;
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          const v = f32[tp + b * T + t];
          const ignored = v === pad || v < 0;
          if (!ignored && !(Number.isInteger(v) && v < V)) throw new WasmzooError('E_ARGUMENT', `${this.name}: target id at [${b}, ${t}] is ${v}; ids must be integers in [0, ${V}) (PAD ${pad} or -1 for padding)`);
          i32[lp + b * T + t] = ignored ? -1 : v;
          if (!ignored) c++;
          if (t + 1 < T) f32[dp + b * T + t + 1] = ignored ? pad : v;
        }
        f32[dp + b * T] = bos;
      }
      count.value = c;
    });
    const dec = this.decoder.buildRecurrent(g, this.tgtEmbed.build(g, decIn), { h: enc.h, c: enc.c });
    const logits = this.out.build(g, reshapeValue(dec.output, [n, H]));
    return { logits, labels, count, n };
  }

  /**
   * Teacher-forced evaluation on source ids x [N, S] and target ids y [N, T] (as for fit): the mean token
   * cross-entropy over the non-pad target positions (what fit minimises, PyTorch's
   * CrossEntropyLoss(ignore_index=PAD)) and the token accuracy (argmax of the logits = the target id).
   * Free-running quality is greedy() / beamSearch() on held-out sources. `loss` is the objective's name
   * ('crossEntropy'; fit passes its internal 'mse'), `batchSize` rows per planned run (default 64).
   */
  override evaluate(x: Tensor, y: Tensor, opts: { loss?: LossName; batchSize?: number } = {}): { loss: number; accuracy: number } {
    opts = checkOptions(`${this.name}.evaluate`, opts, EVALUATE_OPTION_KEYS);
    if (opts.loss !== undefined && opts.loss !== 'crossEntropy' && opts.loss !== 'mse') this.lossOpts(opts);
    x = tensorArg(`${this.name}.evaluate`, x, 'x');
    y = tensorArg(`${this.name}.evaluate`, y, 'y');
    if (x.shape.length !== 2 || y.shape.length !== 2 || x.shape[0] !== y.shape[0]) {
      throw new WasmzooError('E_SHAPE', `${this.name}.evaluate: needs source ids [N, S] and target ids [N, T] with the same N, got [${x.shape.join(', ')}] and [${y.shape.join(', ')}]`);
    }
    this.srcEmbed.checkIds(x.data, x.shape);
    const bs = opts.batchSize ?? 64;
    if (!(Number.isInteger(bs) && bs > 0)) throw new WasmzooError('E_ARGUMENT', `${this.name}.evaluate: batchSize must be a positive integer, got ${bs}`);
    const [N, S] = x.shape, T = y.shape[1], V = this.tgtVocab;
    // reset per call; the cached plans' ops add to this.evalSums (a plan outlives the call that built it)
    const sums = (this.evalSums = { loss: 0, correct: 0, count: 0 });
    for (let r = 0; r < N; r += bs) {
      const B = Math.min(bs, N - r);
      const io = this.plan(`eval:${B}x${S}x${T}`, () => new IOPlan(runtime(), [[B, S], [B, T]], (g, [ids, tgt]) => {
        const { logits, labels, count, n } = this.buildTeacherForced(g, ids, tgt);
        const k = g.rt.k;
        const kept = g.value([1]);
        g.op(`${this.name}.eval_loss`, [logits, labels], (p) => {
          const f32 = g.rt.arena.f32, i32 = g.rt.arena.i32, lg = wordIndex(at(p, logits)), lb = wordIndex(at(p, labels));
          for (let i = 0; i < n; i++) {
            const want = i32[lb + i];
            if (want >= 0 && argmaxAt(f32, lg + i * V, V) === want) this.evalSums.correct++;
          }
          // in place: the logits are not needed afterwards
          this.evalSums.loss += k.softmax_cross_entropy(at(p, logits), at(p, logits), at(p, labels), n, V, 1);
          this.evalSums.count += count.value;
          f32[wordIndex(at(p, kept))] = count.value;
        });
        return [kept];
      }));
      io.run([x.data.subarray(r * S, (r + B) * S), y.data.subarray(r * T, (r + B) * T)]);
    }
    if (sums.count === 0) throw new WasmzooError('E_ARGUMENT', `${this.name}.evaluate: every target position is padding (PAD ${this.pad} or -1): nothing to score`);
    return { loss: sums.loss / sums.count, accuracy: sums.correct / sums.count };
  }

  /** The objective is the token cross-entropy above; the trainer gets 'mse' only so it passes y as floats. */
  private lossOpts<T extends TrainOptions>(opts: T): T {
    if (opts.loss !== undefined && opts.loss !== 'crossEntropy') {
      throw new WasmzooError('E_ARGUMENT', `${this.name}: trains on the token cross-entropy of the target ids (teacher forcing); loss ${JSON.stringify(opts.loss)} is not available`);
    }
    return { ...opts, loss: 'mse' };
  }

  /** One optimisation step: source ids [B, S], target ids [B, T] (see buildTrainingLoss). Returns the mean token loss. */
  override trainStep(x: Tensor, y: Tensor, opts: TrainOptions = {}): number {
    return super.trainStep(x, y, this.lossOpts(opts));
  }

  /**
   * fit over (source ids [N, S], target ids [N, T]); validationData / validationSplit report evaluate()'s
   * teacher-forced token loss and accuracy as valLoss / valAccuracy.
   */
  override fit(x: Tensor, y: Tensor, opts: FitOptions = {}): Promise<History> {
    return super.fit(x, y, this.lossOpts(opts));
  }

  // ---- plans ----

  private plan(key: string, make: () => IOPlan): IOPlan {
    return this.ioPlans.get(key, make); // after dispose() the cache is empty and a miss throws E_DISPOSED
  }

  /** Source ids as equal-length rows, checked: a single sequence or a batch (see TokenIds). */
  private sourceRows(src: TokenIds, where = this.name): number[][] {
    const rows = idRows(where, src, 'source');
    const S = rows[0]?.length ?? 0;
    if (rows.length === 0 || S === 0) throw new WasmzooError('E_SHAPE', `${where}: empty source: expected ids [S] or [B, S] with S >= 1`);
    rows.forEach((r, b) => {
      if (!Array.isArray(r) || r.length !== S) {
        throw new WasmzooError('E_SHAPE', `${where}: source row ${b} has ${Array.isArray(r) ? r.length : 'no'} ids but row 0 has ${S}: a batch needs equal lengths (pad with ${PAD})`);
      }
    });
    this.srcEmbed.checkIds(rows.flat(), [rows.length, S]);
    return rows;
  }

  /** Run the encoder on source ids [S] or [B, S]: its final (h, c), [numLayers, B, hiddenSize] each. */
  encode(src: TokenIds): RecurrentState {
    return this.encodeRows(this.sourceRows(src, `${this.name}.encode`));
  }

  private encodeRows(rows: number[][]): RecurrentState {
    const B = rows.length, S = rows[0].length;
    const io = this.plan(`enc:${B}x${S}`, () => new IOPlan(runtime(), [[B, S]], (g, [ids]) => {
      const r = this.encoder.buildRecurrent(g, this.srcEmbed.build(g, ids));
      return [r.h, r.c!];
    }));
    const [h, c] = io.run([Float32Array.from(rows.flat())]);
    const shape = [this.numLayers, B, this.encoder.hiddenSize];
    return new RecurrentState(new Tensor(h, shape), new Tensor(c, shape));
  }

  /**
   * One decoder step for A hypotheses: previous tokens [A] and state ([numLayers, A, H] h and c) ->
   * log-probabilities over the target vocabulary [A, tgtVocab] and the next state.
   */
  decodeStep(ids: TokenIds, state: RecurrentState): { logProbs: Tensor; state: RecurrentState } {
    const rows = idRows(`${this.name}.decodeStep`, ids, 'tokens');
    if (rows.length !== 1) throw new WasmzooError('E_SHAPE', `${this.name}.decodeStep: expected one token per hypothesis [A], got ${rows.length} rows`);
    const tokens = rows[0]!;
    const A = tokens.length;
    const L = this.numLayers, H = this.decoder.hiddenSize, V = this.tgtVocab;
    if (A === 0) throw new WasmzooError('E_SHAPE', `${this.name}: decodeStep needs at least one token`);
    this.tgtEmbed.checkIds(tokens, [A]);
    for (const [what, t] of [['h', state?.h], ['c', state?.c]] as const) {
      const ok = t && t.shape.length === 3 && t.shape[0] === L && t.shape[1] === A && t.shape[2] === H;
      if (!ok) throw new WasmzooError('E_SHAPE', `${this.name}.decoder: state.${what} must be [${L}, ${A}, ${H}] (numLayers, tokens, hiddenSize), got ${t ? `[${t.shape.join(', ')}]` : 'nothing'}`);
    }
    const io = this.plan(`dec:${A}`, () => new IOPlan(runtime(), [[A], [L, A, H], [L, A, H]], (g, [ids, h0, c0]) => {
      const emb = reshapeValue(this.tgtEmbed.build(g, ids), [A, 1, this.tgtEmbed.embeddingDim]);
      const r = this.decoder.buildRecurrent(g, emb, { h: h0, c: c0 });
      const logits = this.out.build(g, reshapeValue(r.timeMajor, [A, H]));
      const lp = g.value([A, V]);
      const k = g.rt.k;
      g.op(`${this.name}.log_softmax`, [logits], (p) => k.log_softmax(at(p, lp), at(p, logits), A, V));
      return [lp, r.h, r.c!];
    }));
    const [lp, h, c] = io.run([Float32Array.from(tokens), state.h.data, state.c!.data]);
    return { logProbs: new Tensor(lp, [A, V]), state: new RecurrentState(new Tensor(h, [L, A, H]), new Tensor(c, [L, A, H])) };
  }

  /** Greedy decoding of source ids [S] or [B, S] (equal lengths): generated ids per source, without EOS. */
  greedy(src: TokenIds, opts: GreedyOptions = {}): number[][] {
    const where = `${this.name}.greedy`;
    const maxLength = checkMaxLength(this.name, checkOptions(where, opts, GREEDY_OPTION_KEYS).maxLength);
    let state = this.encodeRows(this.sourceRows(src, where));
    const B = state.h.shape[1];
    const V = this.tgtVocab;
    const tok = new Array<number>(B).fill(this.bos);
    const outs: number[][] = Array.from({ length: B }, () => []);
    const done = new Array<boolean>(B).fill(false);
    for (let step = 0; step < maxLength && !done.every(Boolean); step++) {
      const r = this.decodeStep(tok, state);
      state = r.state;
      for (let b = 0; b < B; b++) {
        const best = argmaxAt(r.logProbs.data, b * V, V);
        tok[b] = best;
        if (done[b]) continue;
        if (best === this.eos) done[b] = true;
        else outs[b].push(best);
      }
    }
    return outs;
  }

  /**
   * Text in, text out, with the tokenisation the loaded weights name (meta.preprocessing, from their metadata:
   * `(await wasmzoo.seq2seq({ weights: 'dates' })).translate('march fifth nineteen ninety')` is '1990-03-05').
   * Greedy decoding, or beam search with `{ beamWidth }` (the best hypothesis). Characters outside the source
   * alphabet become UNK; a text longer than the trained source length is an E_ARGUMENT.
   */
  translate(text: string, opts?: BeamOptions): string;
  translate(texts: readonly string[], opts?: BeamOptions): string[];
  translate(input: string | readonly string[], opts: BeamOptions = {}): string | string[] {
    const t = this.text;
    if (!t) throw new WasmzooError('E_ARGUMENT', `${this.name}.translate: these weights name no tokenisation (metadata src_alphabet, tgt_alphabet); encode with a CharTokenizer and call greedy() or beamSearch()`);
    const texts = typeof input === 'string' ? [input] : input;
    if (!Array.isArray(texts) || texts.some((x) => typeof x !== 'string')) throw new WasmzooError('E_ARGUMENT', `${this.name}.translate: expected a string or an array of strings`);
    const src = new CharTokenizer(t.alphabet), tgt = new CharTokenizer(t.targetAlphabet);
    const rows = texts.map((x) => src.encode(x));
    const length = t.length ?? Math.max(1, ...rows.map((r) => r.length));
    const padded = rows.map((r, i) => {
      if (r.length > length) throw new WasmzooError('E_ARGUMENT', `${this.name}.translate: text ${i} has ${r.length} characters; these weights take at most ${length}`);
      const fill = new Array<number>(length - r.length).fill(this.pad);
      return t.padding === 'left' ? fill.concat(r) : r.concat(fill);
    });
    const ids = opts.beamWidth !== undefined ? padded.map((r) => this.beamSearch(r, opts)[0]?.ids ?? []) : padded.length ? this.greedy(padded, opts) : [];
    const out = ids.map((r) => tgt.decode(r));
    return typeof input === 'string' ? out[0] : out;
  }

  /** Beam search for one source sequence (algorithm in the file header): hypotheses, best first. */
  beamSearch(src: TokenIds, opts: BeamOptions = {}): Hypothesis[] {
    const where = `${this.name}.beamSearch`;
    opts = checkOptions(where, opts, BEAM_OPTION_KEYS);
    const maxLength = checkMaxLength(this.name, opts.maxLength);
    const width = opts.beamWidth ?? 4;
    const alpha = opts.lengthPenalty ?? 0.6;
    if (!Number.isInteger(width) || width < 1) throw new WasmzooError('E_ARGUMENT', `${this.name}: beamWidth must be a positive integer, got ${width}`);
    if (!Number.isFinite(alpha) || alpha < 0) throw new WasmzooError('E_ARGUMENT', `${this.name}: lengthPenalty must be a finite number >= 0, got ${alpha}`);
    const rows = this.sourceRows(src, where);
    if (rows.length !== 1) throw new WasmzooError('E_SHAPE', `${where}: decodes one source sequence ([S] or [1, S]), got ${rows.length} rows; call it per sequence`);
    const V = this.tgtVocab, L = this.numLayers, H = this.decoder.hiddenSize;
    let state = this.encodeRows(rows);
    let active: { score: number; ids: number[] }[] = [{ score: 0, ids: [] }];
    const final: { logProb: number; ids: number[]; len: number; finished: boolean }[] = [];
    let stopped = false;
    for (let step = 0; step < maxLength; step++) {
      const tokens = active.map((h) => (h.ids.length ? h.ids[h.ids.length - 1] : this.bos));
      const r = this.decodeStep(tokens, state);
      const cands = topCandidates(active.map((h) => h.score), r.logProbs.data, V, 2 * width);
      const next: { score: number; ids: number[] }[] = [];
      const parents: number[] = [];
      cands.forEach(({ score, a, v }, rank) => {
        if (v === this.eos) {
          if (rank < width) final.push({ logProb: score, ids: active[a].ids, len: active[a].ids.length + 1, finished: true });
        } else if (next.length < width) {
          next.push({ score, ids: [...active[a].ids, v] });
          parents.push(a);
        }
      });
      if (final.length >= width || next.length === 0) {
        stopped = true;
        break;
      }
      active = next;
      state = gatherRows(r.state, parents, L, H);
    }
    if (!stopped) for (const h of active) final.push({ logProb: h.score, ids: h.ids, len: h.ids.length, finished: false });
    const ranked = final.map((f) => ({ ids: f.ids, logProb: f.logProb, finished: f.finished, score: f.logProb / Math.pow((5 + f.len) / 6, alpha) }));
    ranked.sort((x, y) => y.score - x.score); // stable: earlier-final first on ties
    return ranked.slice(0, width);
  }
}

/**
 * TokenIds as rows of ids: a 1-D input is one row, a 2-D one a batch. Kinds are checked here (ranges are the
 * embeddings' business): anything else is an E_ARGUMENT naming `where` and what it got.
 */
function idRows(where: string, ids: TokenIds, what: string): number[][] {
  if (ids instanceof Tensor || (ids !== null && typeof ids === 'object' && !Array.isArray(ids) && !ArrayBuffer.isView(ids) && 'shape' in ids)) {
    const t = tensorArg(where, ids, what);
    if (t.shape.length === 1) return [Array.from(t.data)];
    if (t.shape.length !== 2) throw new WasmzooError('E_SHAPE', `${where}: ${what} ids must be [S] or [B, S], got a Tensor of shape [${t.shape.join(', ')}]`);
    const [B, S] = t.shape as [number, number];
    return Array.from({ length: B }, (_, b) => Array.from(t.data.subarray(b * S, (b + 1) * S)));
  }
  if (ArrayBuffer.isView(ids) && !(ids instanceof DataView) && !(ids instanceof BigInt64Array) && !(ids instanceof BigUint64Array)) {
    return [Array.from(ids as ArrayLike<number>)];
  }
  if (!Array.isArray(ids)) {
    const got = ids === null ? 'null' : typeof ids === 'object' ? (ids as object).constructor?.name ?? 'object' : typeof ids;
    throw new WasmzooError('E_ARGUMENT', `${where}: ${what} ids must be an array [S], rows [B, S] or a Tensor, got ${got}`);
  }
  return (ids.length > 0 && (Array.isArray(ids[0]) || ArrayBuffer.isView(ids[0])) ? Array.from(ids as ArrayLike<number>[], (r) => (ArrayBuffer.isView(r) ? Array.from(r) : r as number[])) : [ids as number[]]);
}

/**
 * The longest output greedy / beamSearch generate. An LSTM decoder has no position table to bound it, so
 * this documented cap does: each step is a decoder call, and 1e9 steps would run until memory ran out.
 */
export const MAX_DECODE_LENGTH = 4096;

function checkMaxLength(name: string, m: number | undefined): number {
  const v = m ?? 64;
  if (!Number.isInteger(v) || v < 1 || v > MAX_DECODE_LENGTH) {
    throw new WasmzooError('E_ARGUMENT', `${name}: maxLength must be a positive integer, at most ${MAX_DECODE_LENGTH} (MAX_DECODE_LENGTH), got ${v}`);
  }
  return v;
}

/**
 * The K best (score + logProb) over hypotheses x vocabulary, best first; ties keep the lower hypothesis
 * index, then the lower token id (the scan order).
 */
function topCandidates(scores: number[], lp: Float32Array, V: number, K: number): { score: number; a: number; v: number }[] {
  const best: { score: number; a: number; v: number }[] = [];
  for (let a = 0; a < scores.length; a++) {
    for (let v = 0; v < V; v++) {
      const s = scores[a] + lp[a * V + v];
      if (best.length === K && !(s > best[K - 1].score)) continue;
      let i = best.length;
      while (i > 0 && best[i - 1].score < s) i--;
      best.splice(i, 0, { score: s, a, v });
      if (best.length > K) best.pop();
    }
  }
  return best;
}

/** State rows reordered to follow the surviving hypotheses' parents. */
function gatherRows(st: RecurrentState, parents: number[], L: number, H: number): RecurrentState {
  const A = st.h.shape[1], N = parents.length;
  const pick = (t: Tensor) => {
    const out = new Float32Array(L * N * H);
    for (let l = 0; l < L; l++) parents.forEach((p, i) => out.set(t.data.subarray((l * A + p) * H, (l * A + p + 1) * H), (l * N + i) * H));
    return new Tensor(out, [L, N, H]);
  };
  return new RecurrentState(pick(st.h), pick(st.c!));
}

/**
 * Options of `wasmzoo.seq2seq`: the architecture and the builder options; with the shipped `weights: 'dates'`
 * the architecture comes from the shipped table (src/models/builtin.ts) and may be left out.
 */
export type Seq2SeqBuildOptions = BuildOptions & (Seq2SeqOptions | (Partial<Seq2SeqOptions> & { weights: 'dates' }));

/** The tokenisation named by a weight file's metadata (examples/train-seq2seq.mjs writes it), or null. */
export function textPreprocessing(md: Record<string, string> | undefined): TextPreprocessing | null {
  if (typeof md?.src_alphabet !== 'string' || typeof md.tgt_alphabet !== 'string') return null;
  const length = Number(md.src_len);
  return Object.freeze({
    tokenizer: 'char', alphabet: md.src_alphabet, targetAlphabet: md.tgt_alphabet,
    length: Number.isInteger(length) && length > 0 ? length : undefined,
    padding: /^left\b/.test(md.padding ?? '') ? 'left' : 'right', // CharTokenizer.encodeBatch pads on the right
  });
}

/**
 * Build a Seq2Seq model (initialising the runtime if needed) and load `weights` if given (src/models/build.ts):
 * `await wasmzoo.seq2seq({ weights: 'dates' })` is the shipped date translator, its tokenisation in `meta.preprocessing`.
 */
export function seq2seq(opts: Seq2SeqBuildOptions): Promise<Seq2Seq> {
  return buildModel('seq2seq', opts, SEQ2SEQ_OPTION_KEYS, (o) => {
    for (const k of ['srcVocab', 'tgtVocab', 'embeddingDim', 'hiddenSize'] as const) {
      if (o[k] === undefined) throw new WasmzooError('E_ARGUMENT', `seq2seq: ${k} is required (unless weights names shipped weights, which bring their sizes: ${builtinNames('seq2seq').map((n) => JSON.stringify(n)).join(', ')})`);
    }
    return new Seq2Seq(o as Seq2SeqOptions);
  }, (model, { metadata }) => {
    model.text = textPreprocessing(metadata);
  });
}
