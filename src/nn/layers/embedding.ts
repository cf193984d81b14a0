/**
 * Embedding as torch.nn.Embedding (https://pytorch.org/docs/stable/generated/torch.nn.Embedding.html):
 * a lookup table weight [numEmbeddings, embeddingDim]; ids [...] -> [..., embeddingDim].
 *
 * Ids arrive as a Tensor (float32 values that must be integers in [0, numEmbeddings)); they are checked in
 * TypeScript before anything runs (`checkIds`), and the lookup op trusts them, like every kernel. The table
 * is copied into the arena once per weight version; the lookup is a row copy (copyWithin on the arena).
 * paddingIdx: that row starts at zero (as PyTorch); at inference it is an ordinary row.
 */
import { wordIndex } from '../../runtime/arena.js';
import { WasmzooError } from '../../errors.js';
import { checkOptions, optionKeys } from '../../options.js';
import { Tensor, numel, shapeStr, tensorArg } from '../../tensor.js';
import { FLAG_ACCUMULATE } from '../../runtime/activation.js';
import { at, type GraphBuilder, type Value } from '../../graph/graph.js';
import { PackedBlock } from '../../graph/packed.js';
import { isTraining, type TrainGraph } from '../../graph/tape.js';
import { Module, type Parameter } from '../module.js';
import { uniform } from '../init.js';

export interface EmbeddingOptions {
  /** Row that starts at zero (negative counts from the end, as PyTorch). */
  paddingIdx?: number;
}

const EMBEDDING_OPTION_KEYS = optionKeys<EmbeddingOptions>({ paddingIdx: 1 });

export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly paddingIdx?: number;
  readonly weight: Parameter;
  private table = new PackedBlock();

  constructor(numEmbeddings: number, embeddingDim: number, opts: EmbeddingOptions = {}) {
    super();
    opts = checkOptions('Embedding', opts, EMBEDDING_OPTION_KEYS);
    for (const [n, v] of [['numEmbeddings', numEmbeddings], ['embeddingDim', embeddingDim]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new WasmzooError('E_ARGUMENT', `Embedding: ${n} must be a positive integer, got ${v}`);
    }
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    if (opts.paddingIdx !== undefined) {
      const p = opts.paddingIdx;
      if (!Number.isInteger(p) || p < -numEmbeddings || p >= numEmbeddings) {
        throw new WasmzooError('E_ARGUMENT', `Embedding: paddingIdx must be an integer in [-${numEmbeddings}, ${numEmbeddings}), got ${p}`);
      }
      this.paddingIdx = p < 0 ? p + numEmbeddings : p;
    }
    this.weight = this.param('weight', [numEmbeddings, embeddingDim]);
    // PyTorch: N(0, 1) (Box-Muller over the seeded default generator), padding row zero
    const w = this.weight.data;
    const u = new Float32Array(2 * w.length);
    uniform(u, 1);
    for (let i = 0; i < w.length; i++) {
      const u1 = (u[2 * i] + 1) / 2 || 1e-7, u2 = (u[2 * i + 1] + 1) / 2;
      w[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
    if (this.paddingIdx !== undefined) this.weight.data.fill(0, this.paddingIdx * embeddingDim, (this.paddingIdx + 1) * embeddingDim);
  }

  /** Throw unless every id is an integer in [0, numEmbeddings) (naming the layer, the position and the value). */
  checkIds(ids: ArrayLike<number>, shape?: readonly number[]): void {
    const n = this.numEmbeddings;
    for (let i = 0; i < ids.length; i++) {
      const v = ids[i];
      if (!Number.isInteger(v) || v < 0 || v >= n) throw idError(this.name, i, v, n, shape);
    }
  }

  protected override checkInput(s: readonly number[]): void {
    if (s.length < 1 || s.length > 3) throw new WasmzooError('E_SHAPE', `${this.name}: expected ids with 1 to 3 dimensions, got ${shapeStr(s)}`);
  }

  /** ids (any 1-3 D shape of integer ids) -> [...ids.shape, embeddingDim]. */
  override forward(ids: Tensor): Tensor {
    ids = tensorArg(this.name, ids, 'ids');
    this.checkIds(ids.data, ids.shape);
    return super.forward(ids);
  }

  build(g: GraphBuilder, x: Value): Value {
    if (isTraining(g)) return embeddingTrain(g, this, x);
    const rt = g.rt;
    const E = this.embeddingDim;
    const table = this.table.ensure(rt, String(this.weight.version), this.weight.data.length * 4, (ptr) => rt.arena.write(ptr, this.weight.data));
    const n = numel(x.shape);
    const y = g.value([...x.shape, E]);
    const V = this.numEmbeddings;
    g.op(this.name, [x], (p) => {
      const f32 = rt.arena.f32;
      const ids = wordIndex(at(p, x)), out = wordIndex(at(p, y)), tb = wordIndex(table);
      for (let i = 0; i < n; i++) {
        const id = f32[ids + i];
        // checked here, in the op, so every path that reaches the lookup is covered (a Sequential, a model,
        // seq2seq decoding), not only Embedding.forward: an id out of range would read outside the table
        if (!(Number.isInteger(id) && id >= 0 && id < V)) throw idError(this.name, i, id, V);
        const row = tb + id * E;
        f32.copyWithin(out + i * E, row, row + E);
      }
    });
    return y;
  }

  override releaseWeights(): void {
    this.table.release();
    super.releaseWeights();
  }
}

/** Training half: the lookup from the raw table, and its backward (scatter-add into the weight gradient). */
function embeddingTrain(g: TrainGraph, m: { name: string; weight: Parameter; numEmbeddings: number; embeddingDim: number; paddingIdx?: number },
  x: Value): Value {
  const k = g.rt.k;
  const E = m.embeddingDim, V = m.numEmbeddings;
  const n = x.shape.reduce((a, b) => a * b, 1);
  const table = g.paramData(m.weight);
  const y = g.value([...x.shape, E]);
  g.op(m.name, [x], (p) => {
    const f32 = g.rt.arena.f32;
    const ids = wordIndex(at(p, x)), out = wordIndex(at(p, y)), tb = wordIndex(table);
    for (let i = 0; i < n; i++) {
      const id = f32[ids + i];
      // the trainer writes ids unchecked: refuse before reading outside the table
      if (!(Number.isInteger(id) && id >= 0 && id < V)) throw idError(m.name, i, id, V);
      f32.copyWithin(out + i * E, tb + id * E, tb + (id + 1) * E);
    }
  });
  g.onBackward(() => {
    const dy = g.grad(y);
    if (!dy) return;
    const gw = g.paramGrad(m.weight);
    const ids32 = g.value([n]);
    g.op(`${m.name}.backward`, [x, dy], (p) => {
      const a = g.rt.arena;
      if (!(gw.flags & FLAG_ACCUMULATE)) a.fill(gw.ptr, V * E);
      const src = wordIndex(at(p, x)), dst = wordIndex(at(p, ids32));
      for (let i = 0; i < n; i++) a.i32[dst + i] = a.f32[src + i];
      k.embedding_backward(gw.ptr, at(p, ids32), at(p, dy), n, E, m.paddingIdx ?? -1);
    });
  });
  return y;
}

function idError(layer: string, i: number, id: number, V: number, shape?: readonly number[]): WasmzooError {
  const where = shape ? ` of ids ${shapeStr(shape)}` : '';
  return new WasmzooError('E_ARGUMENT', `${layer}: token id at flat index ${i}${where} is ${id}; ids must be integers in [0, ${V})`);
}
