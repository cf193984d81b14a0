/** Flatten, Dropout and Identity, as torch.nn. */
import { WasmzooError } from '../../errors.js';
import { numel } from '../../tensor.js';
import { at, type GraphBuilder, type Value } from '../../graph/graph.js';
import { inputGrad, isTraining, type TrainGraph } from '../../graph/tape.js';
import { Module } from '../module.js';

/** torch.nn.Flatten(startDim=1, endDim=-1). Flattening an image puts it back in PyTorch's C,H,W order. */
export class Flatten extends Module {
  readonly startDim: number;
  readonly endDim: number;
  constructor(startDim = 1, endDim = -1) {
    super();
    this.startDim = startDim;
    this.endDim = endDim;
  }
  build(g: GraphBuilder, x: Value): Value {
    const s = x.shape;
    const a = this.startDim < 0 ? this.startDim + s.length : this.startDim;
    const b = this.endDim < 0 ? this.endDim + s.length : this.endDim;
    if (a < 0 || b >= s.length || a > b) {
      throw new WasmzooError('E_SHAPE', `${this.name}: cannot flatten dims ${this.startDim}..${this.endDim} of a ${s.length}-D input`);
    }
    const shape = [...s.slice(0, a), numel(s.slice(a, b + 1)), ...s.slice(b + 1)];
    if (s.length !== 4 || (s[2] === 1 && s[3] === 1) || s[1] === 1) {
      // A view (same buffer, offset and size, new shape): nothing to record, in training either. NOTE:
      // gradients are keyed by (buffer, offset, size), so y's gradient IS x's gradient entry already; adding
      // dy to it again (as this once did) doubled it, e.g. Flatten of a 1-channel image or of [N, C, 1, 1].
      return { ...x, shape };
    }
    if (a !== 1 || b !== 3) throw new WasmzooError('E_SHAPE', `${this.name}: only Flatten(1, -1) is supported on images`);
    // NHWC -> N,(C,H,W): one transpose.
    const [n, c, h, w] = s;
    const y = g.value(shape);
    const k = g.rt.k;
    g.op(this.name, [x], (p) => k.nhwc_to_nchw(at(p, y), at(p, x), n, c, h, w));
    if (isTraining(g)) flattenBackward(g, this.name, x, y);
    return y;
  }
}

/** Training half of Flatten on an image (the NHWC -> NCHW transpose): the inverse transpose of the gradient. */
function flattenBackward(g: TrainGraph, name: string, x: Value, y: Value): void {
  const k = g.rt.k;
  const [n, c, h, w] = x.shape;
  inputGrad(g, name, x, y, [], (p, dx, dy) => k.nchw_to_nhwc(at(p, dx), at(p, dy), n, c, h, w));
}

/** Identity at inference; in training (fit / trainStep) inverted dropout with seeded masks. */
export class Dropout extends Module {
  readonly p: number;
  constructor(p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new WasmzooError('E_ARGUMENT', `Dropout: p must be in [0, 1], got ${p}`);
    this.p = p;
  }
  build(g: GraphBuilder, x: Value): Value {
    return isTraining(g) ? dropoutTrain(g, this.name, x, this.p) : x;
  }
}

/** Training half of Dropout: inverted dropout with a mask drawn per step from (seed, step, layer): y = x * mask, dx = dy * mask. */
export function dropoutTrain(g: TrainGraph, name: string, x: Value, prob: number): Value {
  if (prob === 0) return x;
  const k = g.rt.k;
  const n = numel(x.shape);
  const id = g.nextDropoutId();
  const mask = g.value(x.shape);
  const y = g.value(x.shape);
  const st = g.state;
  g.op(`${name}.mask`, [], (p) => k.dropout_mask(at(p, mask), n, prob, (st.seed ^ Math.imul(id + 1, 0x9e3779b1)) | 0, st.step | 0));
  g.op(name, [x, mask], (p) => k.mul(at(p, y), at(p, x), at(p, mask), n));
  inputGrad(g, name, x, y, [mask], (p, dx, dy) => k.mul(at(p, dx), at(p, dy), at(p, mask), n));
  return y;
}

export class Identity extends Module {
  build(_g: GraphBuilder, x: Value): Value {
    return x;
  }
}
