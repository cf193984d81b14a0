/**
 * IOPlan: a planned computation with several inputs and outputs (Module's planner has one of each), used by
 * the recurrent layers (x, h0, c0 -> output, h_n, c_n), Seq2Seq and the VAE. It only uses GraphBuilder/Plan's
 * public surface: inputs are values created before the first op (live from the start, so nothing written
 * while they are still read shares their memory), outputs are kept to the end.
 */
import { wordIndex } from '../runtime/arena.js';
import type { Runtime } from '../runtime/runtime.js';
import { numel, type Shape } from '../tensor.js';
import { GraphBuilder, Plan, type Value } from './graph.js';

/** A planned computation with inputs and outputs by position, built once per set of input shapes. */
export class IOPlan {
  readonly plan: Plan;
  readonly inputs: Value[];
  readonly outputs: Value[];
  // float offsets from the first input's index, and sizes, fixed once planned (run() is on the per-step
  // path of streaming layers); the base follows the shared activation region (see Plan)
  private readonly inAt: number[];
  private readonly outAt: number[];
  private readonly outSize: number[];
  private readonly anchor: Value;
  constructor(rt: Runtime, inputShapes: readonly Shape[], build: (g: GraphBuilder, inputs: Value[]) => Value[]) {
    const g = new GraphBuilder(rt);
    // Values created before any op is recorded are live from op 0 on: inputs written before run().
    this.inputs = inputShapes.map((s) => g.value(s));
    this.outputs = build(g, this.inputs);
    this.plan = new Plan(g, this.inputs, this.outputs); // any number of inputs, none included
    this.anchor = this.inputs[0] ?? this.outputs[0];
    const at0 = wordIndex(this.plan.pointer(this.anchor));
    this.inAt = this.inputs.map((v) => wordIndex(this.plan.pointer(v)) - at0);
    this.outAt = this.outputs.map((v) => wordIndex(this.plan.pointer(v)) - at0);
    this.outSize = this.outputs.map((v) => numel(v.shape));
  }
  get rt(): Runtime {
    return this.plan.rt;
  }
  /**
   * Copy inputs in, run, copy outputs out, each into a Float32Array of its own.
   * NOTE: views into one shared allocation saved ~0.4 us per LSTM step, but then transferring one result's
   * buffer to a worker (postMessage transfer list) would detach the others, e.g. the state for the next step.
   */
  run(inputs: readonly (ArrayLike<number> | undefined)[]): Float32Array[] {
    const arena = this.plan.rt.arena;
    let f32 = arena.f32;
    const at0 = wordIndex(this.plan.pointer(this.anchor));
    for (let i = 0; i < inputs.length; i++) {
      const d = inputs[i];
      if (d) f32.set(d, at0 + this.inAt[i]);
    }
    this.plan.run();
    f32 = arena.f32; // the run may have grown the memory
    const out: Float32Array[] = [];
    for (let i = 0; i < this.outAt.length; i++) out.push(f32.slice(at0 + this.outAt[i], at0 + this.outAt[i] + this.outSize[i]));
    return out;
  }
  dispose(): void {
    this.plan.dispose();
  }
}
