/**
 * Activations and softmax as torch.nn.ReLU, LeakyReLU, Tanh, Sigmoid, Softmax, LogSoftmax. Inside Sequential, an
 * activation right after a Conv2d / Linear (/ BatchNorm) is fused into that layer's epilogue instead.
 */
import { WasmzooError } from '../../errors.js';
import { Act } from '../../runtime/activation.js';
import { numel, shapeStr } from '../../tensor.js';
import { at, type GraphBuilder, type Value } from '../../graph/graph.js';
import { actGrad, isTraining, unsupported, type TrainGraph } from '../../graph/tape.js';
import { Module } from '../module.js';

/**
 * An activation module: its Activation value (src/runtime/activation.ts) is what a preceding Conv2d / Linear
 * / BatchNorm fuses, and what the standalone op and its backward read.
 */
abstract class Elementwise extends Module {
  /** The activation, fused into a preceding layer's epilogue inside Sequential. */
  abstract readonly act: Act;
  build(g: GraphBuilder, x: Value): Value {
    const y = g.value(x.shape);
    const k = g.rt.k;
    const n = numel(x.shape);
    const { code, alpha } = this.act;
    g.op(this.name, [x], (p) => k.activation(at(p, y), at(p, x), n, code, alpha));
    if (isTraining(g)) activationBackward(g, this.name, x, y, this.act);
    return y;
  }
}

export class ReLU extends Elementwise {
  readonly act = Act.Relu;
  /** Accepted for PyTorch compatibility; the planner decides about memory reuse. */
  constructor(_inplace = false) {
    super();
  }
}

export class Tanh extends Elementwise {
  readonly act = Act.Tanh;
}

export class Sigmoid extends Elementwise {
  readonly act = Act.Sigmoid;
}

/**
 * torch.nn.LeakyReLU(negative_slope=0.01): x > 0 ? x : negative_slope * x
 * (https://pytorch.org/docs/stable/generated/torch.nn.LeakyReLU.html). Fused like ReLU; trains with a
 * slope >= 0.
 */
export class LeakyReLU extends Elementwise {
  readonly act: Act;
  readonly negativeSlope: number;
  /** inplace is accepted for PyTorch compatibility, as ReLU's. */
  constructor(negativeSlope = 0.01, _inplace = false) {
    super();
    this.act = Act.leakyRelu(negativeSlope);
    this.negativeSlope = negativeSlope;
  }
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

/** Training half of a standalone activation: dx = dy * act'(y), from the output the forward wrote. */
function activationBackward(g: TrainGraph, name: string, x: Value, y: Value, act: Act): void {
  g.onBackward(() => {
    const dy = g.grad(y);
    if (!dy || !g.needsGrad(x)) return;
    g.addGrad(x, actGrad(g, name, y, dy, act));
  });
}
