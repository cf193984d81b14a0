/**
 * Recording a training step: the same GraphBuilder, plus a tape (the graph layer's training half). Each layer's build() records its forward
 * ops and, when the graph is a TrainGraph, pushes a closure that will record its backward ops. After the
 * loss, `backward()` replays the tape in reverse. Forward and backward ops end up in ONE op list, so the
 * planner sees which activations backward still reads and keeps exactly those alive (llm.c-style
 * forward/backward pairs, planned like any other pass).
 *
 * Gradients of values: the first contribution becomes the gradient, later ones are added into it
 * (a value read by two layers, e.g. a residual). Gradients of parameters live in the ParamStore; the
 * first writer in a step overwrites (no zero_grad pass needed), later writers accumulate.
 */
import type { Runtime } from '../runtime/runtime.js';
import { WasmzooError } from '../errors.js';
import { GraphBuilder, at, type Pointers, type Value } from './graph.js';
import { numel } from '../tensor.js';
import type { Parameter } from './parameter.js';
import { Act, FLAG_ACCUMULATE, backwardProblem } from '../runtime/activation.js';

/** Where a training step keeps each learnable parameter in the arena (src/train/params.ts implements it). */
export interface ParamSlots {
  slot(p: Parameter): { readonly param: Parameter; readonly data: number; readonly grad: number; readonly size: number };
  readonly slots: readonly { readonly param: Parameter }[];
}

/** Per-step mutable state the recorded ops read at run time (e.g. dropout seeds). */
export interface StepState {
  /** Counts training steps; dropout masks are drawn from (seed, step, layer). */
  step: number;
  seed: number;
}

export class TrainGraph extends GraphBuilder {
  readonly store: ParamSlots;
  readonly state: StepState;
  private readonly tape: (() => void)[] = [];
  private readonly grads = new Map<string, Value>();
  private readonly noGrad = new Set<number>();
  private readonly paramWritten = new Set<Parameter>();
  private dropoutLayers = 0;

  constructor(rt: Runtime, store: ParamSlots, state: StepState) {
    super(rt);
    this.store = store;
    this.state = state;
  }

  /** Mark a value (a model input, a target) as needing no gradient. */
  constant(v: Value): void {
    this.noGrad.add(v.buf);
  }

  needsGrad(v: Value): boolean {
    return !this.noGrad.has(v.buf);
  }

  /** Record what to do on the way back (called in forward order, replayed in reverse). */
  onBackward(fn: () => void): void {
    this.tape.push(fn);
  }

  private key(v: Value): string {
    return `${v.buf}:${v.offset ?? 0}:${numel(v.shape)}`;
  }

  /** The gradient of v, if anything downstream contributed one. */
  grad(v: Value): Value | undefined {
    return this.grads.get(this.key(v));
  }

  /** Contribute dv to v's gradient: the first becomes it, later ones are summed in place. */
  addGrad(v: Value, dv: Value): void {
    if (!this.needsGrad(v)) return;
    const k = this.key(v);
    const have = this.grads.get(k);
    if (!have) {
      this.grads.set(k, dv);
      return;
    }
    const n = numel(v.shape);
    const kk = this.rt.k;
    this.op('grad.add', [have, dv], (p) => kk.add(at(p, have), at(p, have), at(p, dv), n, 0, 0));
  }

  /** Gradient pointer of a parameter and the flags its next writer uses (overwrite first, then accumulate). */
  paramGrad(p: Parameter): { ptr: number; flags: number } {
    const slot = this.store.slot(p);
    const flags = this.paramWritten.has(p) ? FLAG_ACCUMULATE : 0;
    this.paramWritten.add(p);
    return { ptr: slot.grad, flags };
  }

  /** Raw (PyTorch-layout) values of a parameter in the arena. */
  paramData(p: Parameter): number {
    return this.store.slot(p).data;
  }

  /** A distinct id per dropout layer in this graph (for independent masks). */
  nextDropoutId(): number {
    return this.dropoutLayers++;
  }

  /** Replay the tape backwards, recording every backward op. */
  backward(): void {
    for (let i = this.tape.length - 1; i >= 0; i--) this.tape[i]();
  }

  /** Parameters that received no gradient (frozen by topology, e.g. an unused head): zero them. */
  untouchedParams(): Parameter[] {
    return this.store.slots.map((s) => s.param).filter((p) => !this.paramWritten.has(p));
  }
}

export function isTraining(g: GraphBuilder): g is TrainGraph {
  return g instanceof TrainGraph;
}

/** dz = dy * act'(y) for an activation fused into the layer that produced y (identity: dz = dy). */
export function actGrad(g: TrainGraph, name: string, y: Value, dy: Value, act: Act): Value {
  if (act.code === Act.None.code) return dy;
  const why = backwardProblem(act);
  if (why) unsupported(name, `${act.name} with ${why}`);
  const dz = g.value(y.shape);
  const n = numel(y.shape);
  const k = g.rt.k;
  g.op(`${name}.act_backward`, [y, dy], (p) => k.act_backward(at(p, dz), at(p, dy), at(p, y), n, act.code, act.alpha));
  return dz;
}

/**
 * The common backward of a layer with one input and no parameters: when y received a gradient and x needs
 * one, record `fill(p, dx, dy)` writing dx (a new value) from dy and the values in `reads`.
 */
export function inputGrad(g: TrainGraph, name: string, x: Value, y: Value, reads: Value[], fill: (p: Pointers, dx: Value, dy: Value) => void): void {
  g.onBackward(() => {
    const dy = g.grad(y);
    if (!dy || !g.needsGrad(x)) return;
    const dx = g.value(x.shape);
    g.op(`${name}.backward`, [dy, ...reads], (p) => fill(p, dx, dy));
    g.addGrad(x, dx);
  });
}

/** A layer (or a mode of one) that has no training half yet. */
export function unsupported(name: string, what: string): never {
  throw new WasmzooError('E_ARGUMENT', `${name}: ${what} is not supported in training yet`);
}
