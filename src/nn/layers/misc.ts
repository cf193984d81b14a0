/** Flatten, Dropout and Identity, as torch.nn. */
import { WasmzooError } from '../../errors.js';
import { numel } from '../../tensor.js';
import { at, type GraphBuilder, type Value } from '../graph.js';
import { Module } from '../module.js';
import { isTraining } from '../../train/graph.js';
import { flattenBackward, trainDropout, viewBackward } from '../../train/layers.js';

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
      const y = { ...x, shape };
      if (isTraining(g)) viewBackward(g, x, y);
      return y;
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

/** Identity at inference; in training (fit / trainStep) inverted dropout with seeded masks. */
export class Dropout extends Module {
  readonly p: number;
  constructor(p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new WasmzooError('E_ARGUMENT', `Dropout: p must be in [0, 1], got ${p}`);
    this.p = p;
  }
  build(g: GraphBuilder, x: Value): Value {
    return isTraining(g) ? trainDropout(g, this.name, x, this.p) : x;
  }
}

export class Identity extends Module {
  build(_g: GraphBuilder, x: Value): Value {
    return x;
  }
}
