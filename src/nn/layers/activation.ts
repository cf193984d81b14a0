/**
 * Activations and softmax as torch.nn.ReLU, Tanh, Sigmoid, Softmax, LogSoftmax. Inside Sequential, an
 * activation right after a Conv2d / Linear (/ BatchNorm) is fused into that layer's epilogue instead.
 */
import { WasmzooError } from '../../errors.js';
import { Act } from '../../runtime/kernels.js';
import { numel, shapeStr } from '../../tensor.js';
import { at, type GraphBuilder, type Value } from '../../graph/graph.js';
import { actGrad, isTraining, unsupported, type TrainGraph } from '../../graph/tape.js';
import { Module } from '../module.js';

type Unary = 'relu' | 'tanh' | 'sigmoid';

abstract class Elementwise extends Module {
  /** The epilogue code when fused into a preceding layer. */
  abstract readonly act: Act;
  protected abstract readonly kernel: Unary;
  build(g: GraphBuilder, x: Value): Value {
    if (isTraining(g)) return activationTrain(g, this.name, x, this.act);
    const y = g.value(x.shape);
    const k = g.rt.k;
    const n = numel(x.shape);
    const f = k[this.kernel];
    g.op(this.name, [x], (p) => f(at(p, y), at(p, x), n));
    return y;
  }
}

export class ReLU extends Elementwise {
  readonly act = Act.Relu;
  protected readonly kernel = 'relu';
  /** Accepted for PyTorch compatibility; the planner decides about memory reuse. */
  constructor(_inplace = false) {
    super();
  }
}

export class Tanh extends Elementwise {
  readonly act = Act.Tanh;
  protected readonly kernel = 'tanh';
}

export class Sigmoid extends Elementwise {
  readonly act = Act.Sigmoid;
  protected readonly kernel = 'sigmoid';
}

/** Whether a module is an activation that can be fused. */
export function isActivation(m: Module): m is Elementwise {
  return m instanceof Elementwise;
}

abstract class SoftmaxBase extends Module {
  readonly dim: number;
  protected abstract readonly kernel: 'softmax' | 'log_softmax';
  constructor(dim = -1) {
    super();
    if (!Number.isInteger(dim)) throw new WasmzooError('E_ARGUMENT', `${this.constructor.name}: dim must be an integer, got ${dim}`);
    this.dim = dim;
  }
  build(g: GraphBuilder, x: Value): Value {
    const s = x.shape;
    const d = this.dim < 0 ? this.dim + s.length : this.dim;
    // Rows x cols with cols contiguous: the last dim of row-major values, or channels of NHWC images.
    const contiguous = s.length === 4 ? d === 1 : d === s.length - 1;
    if (d < 0 || d >= s.length || !contiguous) {
      throw new WasmzooError('E_SHAPE', `${this.name}: dim ${this.dim} of a ${shapeStr(s)} input is not supported (use the last dim, or dim 1 of an image)`);
    }
    if (isTraining(g)) unsupported(this.name, `${this.constructor.name} (train on logits: the losses include it)`);
    const cols = s[d];
    const rows = numel(s) / cols;
    const y = g.value(s);
    const k = g.rt.k;
    const f = k[this.kernel];
    g.op(this.name, [x], (p) => f(at(p, y), at(p, x), rows, cols));
    return y;
  }
}

export class Softmax extends SoftmaxBase {
  protected readonly kernel = 'softmax';
}

export class LogSoftmax extends SoftmaxBase {
  protected readonly kernel = 'log_softmax';
}

/** Training half of a standalone activation: the same forward, and dx = dy * act'(y). */
function activationTrain(g: TrainGraph, name: string, x: Value, act: Act): Value {
  const k = g.rt.k;
  const y = g.value(x.shape);
  const n = numel(x.shape);
  const f = act === Act.Relu ? k.relu : act === Act.Tanh ? k.tanh : k.sigmoid;
  g.op(name, [x], (p) => f(at(p, y), at(p, x), n));
  g.onBackward(() => {
    const dy = g.grad(y);
    if (!dy || !g.needsGrad(x)) return;
    g.addGrad(x, actGrad(g, name, y, dy, act));
  });
  return y;
}
