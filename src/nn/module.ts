/**
 * Module: the base of every layer and model, as torch.nn.Module.
 *
 * - Parameters (learnable) and buffers (state such as batch norm's running statistics) are kept apart, as
 *   PyTorch's `named_parameters()` and `named_buffers()`; `stateDict()` holds both (per module its
 *   parameters, then its buffers, then its children: PyTorch's order).
 * - Parameters and buffers live in JavaScript Float32Arrays (the source of truth for stateDict); layers
 *   pack them into the wasm arena once, in their preferred layout, when a forward pass is planned.
 * - `forward(x)` plans once per input shape (see graph.ts) and then only runs kernels.
 * - `loadStateDict` takes safetensors bytes or a name -> tensor map with PyTorch's state_dict keys, checks
 *   everything first (missing, unexpected, shape mismatches: all reported at once) and only then assigns,
 *   so a failed load leaves the module unchanged.
 *
 * - Training (trainStep, fit, evaluate) is reached through the interface of src/graph/training.ts, which
 *   src/train implements: `nn` never imports `train`. Values a training updated are copied back into the
 *   Parameters on their next read (src/graph/parameter.ts), so nothing here syncs by hand.
 *
 * NOTE: modules start in eval mode (PyTorch starts in train mode). forward() always has inference semantics;
 * trainStep / fit apply training semantics (dropout, batch statistics) whatever the flag says.
 */
import { WasmzooError } from '../errors.js';
import { runtime, type Runtime } from '../runtime/runtime.js';
import { Tensor, numel, shapeStr, tensorArg, type Shape } from '../tensor.js';
import { GraphBuilder, Plan, toNCHW, toNHWC, type Value } from '../graph/graph.js';
import { PlanCache, type PlanOwner } from '../graph/plancache.js';
import { Parameter } from '../graph/parameter.js';
import {
  EVALUATE_OPTION_KEYS, FIT_OPTION_KEYS, TRAIN_OPTION_KEYS, releaseTraining, training, type EvaluateOptions, type FitOptions, type History, type TrainOptions,
} from '../graph/training.js';
import { checkOptions, optionKeys } from '../options.js';
import { readWeights, type WeightSource } from '../io/weights.js';
import { writeSafetensors } from '../io/safetensors.js';
import { describe, summaryTable } from './describe.js';

export { Parameter };

export interface LoadOptions {
  /** Like PyTorch's strict (default true): missing and unexpected keys are errors. Shape mismatches always are. */
  strict?: boolean;
}

const LOAD_OPTION_KEYS = optionKeys<LoadOptions>({ strict: 1 });
/** `{ batchSize }`: the options of predict() and of the models' batched methods. */
export const BATCH_OPTION_KEYS = optionKeys<{ batchSize?: number }>({ batchSize: 1 });

export abstract class Module implements PlanOwner {
  /** Layer path inside its model (e.g. "features.3"), for error messages. Set by the parent. */
  name: string;
  /** The flag train() / eval() set, as PyTorch's `training` (forward is inference either way; see above). */
  training = false;
  protected readonly _params = new Map<string, Parameter>();
  protected readonly _buffers = new Map<string, Parameter>();
  protected readonly _modules = new Map<string, Module>();
  /** Every plan cache of this module (its own forward plans and those of subclasses), cleared on dispose. */
  private readonly caches: { clear(): void }[] = [];
  private readonly plans = new PlanCache<Plan>(this, (p) => p.dispose());
  private rt: Runtime | undefined;
  private disposed = false;

  constructor(name?: string) {
    this.name = name ?? this.constructor.name;
  }

  /** Register a learnable parameter under its state_dict name. */
  protected param(key: string, shape: Shape): Parameter {
    const p = new Parameter(shape);
    this._params.set(key, p);
    return p;
  }

  /** Register a buffer (state that is saved but not learned, e.g. running statistics) under its state_dict name. */
  protected buffer(key: string, shape: Shape, integer = false): Parameter {
    const p = new Parameter(shape, undefined, integer);
    this._buffers.set(key, p);
    return p;
  }

  /** Register a child module under its state_dict prefix. */
  protected child<M extends Module>(key: string, m: M): M {
    this._modules.set(key, m);
    // a named parent prefixes its path; an unnamed one (its class name) leaves the key, except an index, which
    // alone would start an error with `0: ...`: Sequential's children are `Sequential[0]`, `Sequential[1]`
    const root = !this.name || this.name === this.constructor.name;
    m.setName(!root ? `${this.name}.${key}` : /^\d+$/.test(key) ? `${this.constructor.name}[${key}]` : key);
    return m;
  }

  private setName(n: string): void {
    this.name = n;
    for (const [k, m] of this._modules) m.setName(`${n}.${k}`);
  }

  /** Children in registration order, like `named_children()`. */
  namedChildren(): [string, Module][] {
    return [...this._modules];
  }

  /**
   * The learnable parameters with their full state_dict keys, as PyTorch's `named_parameters()`: what an
   * optimizer updates. Batch norm's running statistics are buffers (namedBuffers). Each is an nn.Parameter,
   * live: `.data` is its current values (a Float32Array), `.set(values)` replaces them.
   */
  namedParameters(prefix = ''): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [k, p] of this._params) out.push([prefix + k, p]);
    for (const [k, m] of this._modules) out.push(...m.namedParameters(`${prefix}${k}.`));
    return out;
  }

  /** The buffers (running_mean, running_var, num_batches_tracked) with their state_dict keys, as PyTorch's `named_buffers()`. */
  namedBuffers(prefix = ''): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [k, p] of this._buffers) out.push([prefix + k, p]);
    for (const [k, m] of this._modules) out.push(...m.namedBuffers(`${prefix}${k}.`));
    return out;
  }

  /** Parameters and buffers together in state_dict order (per module: parameters, buffers, then children). */
  namedState(prefix = ''): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [k, p] of this._params) out.push([prefix + k, p]);
    for (const [k, p] of this._buffers) out.push([prefix + k, p]);
    for (const [k, m] of this._modules) out.push(...m.namedState(`${prefix}${k}.`));
    return out;
  }

  /** Number of values in learnable parameters (buffers excluded), as torchvision's `num_params`. */
  parameterCount(): number {
    let n = 0;
    for (const [, p] of this.namedParameters()) n += p.raw.length;
    return n;
  }

  /** PyTorch-style state dict: key -> Tensor (copies) of every parameter and buffer, including what trainStep / fit have trained so far. */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [k, p] of this.namedState()) out[k] = new Tensor(p.data.slice(), p.shape);
    return out;
  }

  /** The state dict as safetensors bytes (F32; integer buffers as I64), loadable by PyTorch. */
  saveSafetensors(metadata?: Record<string, string>): Uint8Array {
    const tensors: Record<string, { dtype: 'F32' | 'I64'; shape: number[]; data: Float32Array | BigInt64Array }> = {};
    for (const [k, p] of this.namedState()) {
      tensors[k] = p.integer
        ? { dtype: 'I64', shape: [...p.shape], data: BigInt64Array.from(p.data, (v) => BigInt(Math.round(v))) }
        : { dtype: 'F32', shape: [...p.shape], data: p.data };
    }
    return writeSafetensors(tensors, metadata);
  }

  /**
   * Load weights with PyTorch's state_dict keys: safetensors bytes, or a map of name -> Tensor
   * (or {data, shape}). Checks every key and shape first and reports all problems in one error;
   * nothing is changed unless everything fits.
   */
  loadStateDict(weights: WeightSource, opts: LoadOptions = {}): this {
    this.assertAlive();
    const strict = checkOptions(`${this.name}.loadStateDict`, opts, LOAD_OPTION_KEYS).strict ?? true;
    const src = readWeights(weights);
    const own = this.namedState();
    const ownKeys = new Set(own.map(([k]) => k));
    const missing: string[] = [];
    const mismatched: string[] = [];
    const unusable: string[] = []; // entries readWeights refused (dtype, data, shape): reported with the rest
    const unusableCodes = new Set<WasmzooError['code']>();
    for (const [k, p] of own) {
      const t = src.get(k);
      if (!t) {
        if (!this.optionalKey(k)) missing.push(k);
        continue;
      }
      if (t.problem) {
        unusable.push(`${k}: ${t.problem.message}`);
        unusableCodes.add(t.problem.code);
      } else if (!sameShape(t.shape, p.shape)) mismatched.push(`${k}: expected ${shapeStr(p.shape)}, got ${shapeStr(t.shape)}`);
    }
    const unexpected = [...src.keys()].filter((k) => !ownKeys.has(k) && !this.optionalKey(k));
    const problems: string[] = [];
    // the first few of each list and the counts: two architectures differ in hundreds of keys (a 3 KB line)
    if (unusable.length) problems.push(`unusable tensors: ${firstFew(unusable, '; ')}`);
    if (mismatched.length) problems.push(`size mismatch for ${firstFew(mismatched, '; ')}`);
    if (strict && missing.length) problems.push(`missing keys: ${firstFew(missing, ', ')}`);
    if (strict && unexpected.length) problems.push(`unexpected keys: ${firstFew(unexpected, ', ')}`);
    if (problems.length) {
      // Only unusable tensors of one kind: their code (e.g. E_DTYPE); anything else: E_STATE_DICT.
      const [only] = unusableCodes;
      const code = problems.length === 1 && unusableCodes.size === 1 ? only! : 'E_STATE_DICT';
      throw new WasmzooError(code, `${this.name}: cannot load state dict: ${problems.join('. ')}`);
    }
    // Convert everything before touching any parameter (a dtype refusal must not leave a half-loaded model).
    const converted: [Parameter, Float32Array][] = [];
    for (const [k, p] of own) {
      const t = src.get(k);
      if (t) converted.push([p, t.toFloat32()]);
    }
    for (const [p, data] of converted) p.set(data);
    return this;
  }

  /**
   * Keys that loadStateDict tolerates even when strict: an own key that may be absent, or a foreign key that
   * is skipped (e.g. GoogLeNet's auxiliary classifiers, or the classifier of a headless model). Models
   * override it; plain layers accept nothing extra.
   */
  protected optionalKey(_key: string): boolean {
    return false;
  }

  /** Switch training mode on (or off) for this module and its children. */
  train(mode = true): this {
    this.training = mode;
    for (const m of this._modules.values()) m.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * Record this module's computation on `x` into the graph. Layers implement it; the runtime and the
   * planner call it once per input shape.
   */
  abstract build(g: GraphBuilder, x: Value): Value;

  /** Check an input shape before planning; layers with fixed input expectations override it. */
  protected checkInput(_shape: Shape): void {}

  /**
   * Run on x (NCHW for images, as PyTorch) with inference semantics (batch norm uses running statistics,
   * dropout is the identity: like PyTorch's eval() under no_grad). Plans on the first call with a shape,
   * then only runs kernels. Training semantics apply inside trainStep / fit.
   */
  forward(x: Tensor): Tensor {
    x = tensorArg(this.name, x);
    const plan = this.planFor(x.shape);
    const arena = plan.rt.arena;
    arena.write(plan.pointer(plan.input), x.data);
    plan.run();
    const out = plan.output;
    return new Tensor(arena.read(plan.pointer(out), numel(out.shape)), out.shape);
  }

  /** The plan for an input shape (built on first use; rebuilt after this module's weights change). */
  planFor(shape: Shape): Plan {
    this.assertAlive();
    if (!shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new WasmzooError('E_SHAPE', `${this.name}: bad input shape ${shapeStr(shape)}`);
    }
    return this.plans.get(shape.join('x'), () => {
      this.checkInput(shape);
      this.rt ??= runtime();
      const g = new GraphBuilder(this.rt);
      // The API speaks NCHW; inside, images are NHWC. Layout changes are the first and last ops.
      const input = g.value(shape);
      const output = toNCHW(g, this.build(g, toNHWC(g, input)));
      return new Plan(g, input, output);
    });
  }

  /**
   * One optimisation step on a batch (forward with training semantics, loss, backward, optimizer update);
   * returns the batch's mean loss. The optimizer and loss given on the first call are kept for later calls.
   */
  trainStep(x: Tensor, y: Tensor, opts: TrainOptions = {}): number {
    this.assertAlive();
    const where = `${this.name}.trainStep`;
    return training().trainStep(this, tensorArg(where, x, 'x'), tensorArg(where, y, 'y'), checkOptions(where, opts, TRAIN_OPTION_KEYS));
  }

  /** Train over a dataset for some epochs (see FitOptions); resolves to the per-epoch logs. */
  fit(x: Tensor, y: Tensor, opts: FitOptions = {}): Promise<History> {
    this.assertAlive();
    const where = `${this.name}.fit`;
    return training().fit(this, tensorArg(where, x, 'x'), tensorArg(where, y, 'y'), checkOptions(where, opts, FIT_OPTION_KEYS));
  }

  /** Mean loss (and accuracy for crossEntropy) over a dataset, in batches, with inference semantics. */
  evaluate(x: Tensor, y: Tensor, opts: EvaluateOptions = {}): { loss: number; accuracy?: number } {
    const where = `${this.name}.evaluate`;
    return training().evaluate(this, tensorArg(where, x, 'x'), tensorArg(where, y, 'y'), checkOptions(where, opts, EVALUATE_OPTION_KEYS));
  }

  /** forward() over a dataset in batches (default 256 rows), outputs concatenated. */
  predict(x: Tensor, opts: { batchSize?: number } = {}): Tensor {
    x = tensorArg(`${this.name}.predict`, x, 'x');
    const n = x.shape[0];
    const bs = checkOptions(`${this.name}.predict`, opts, BATCH_OPTION_KEYS).batchSize ?? 256;
    let out: Float32Array | undefined;
    let outShape: number[] = [];
    for (let from = 0; from < n; from += bs) {
      const y = this.forward(rows(x, from, Math.min(n, from + bs)));
      if (!out) {
        outShape = [n, ...y.shape.slice(1)];
        out = new Float32Array(numel(outShape));
      }
      out.set(y.data, (from * out.length) / n);
    }
    return new Tensor(out ?? new Float32Array(0), outShape);
  }

  /**
   * Free everything this module and its children hold in wasm memory (plans, packed weights, training
   * state). None of them can run afterwards: every method that needs memory throws E_DISPOSED.
   */
  dispose(): void {
    if (this.disposed) return;
    releaseTraining(this);
    for (const c of this.caches) c.clear();
    this.releaseWeights();
    this.disposed = true;
    for (const m of this._modules.values()) m.dispose();
  }

  /** Release packed weights held in the arena (layers that pack override and call super). */
  releaseWeights(): void {
    for (const m of this._modules.values()) m.releaseWeights();
  }

  /** Throws E_DISPOSED after dispose(). */
  assertAlive(): void {
    if (this.disposed) throw new WasmzooError('E_DISPOSED', `${this.name}: used after dispose()`);
  }

  /**
   * A table of every layer with its output shape for `inputShape` and its parameter count, as Keras'
   * summary() or torchinfo: `console.log(model.summary([1, 3, 224, 224]))`. Plans nothing that stays.
   */
  summary(inputShape: Shape): string {
    this.assertAlive();
    if (!Array.isArray(inputShape) || !inputShape.length || !inputShape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new WasmzooError('E_SHAPE', `${this.name}.summary: input shape must be positive integers, got ${Array.isArray(inputShape) ? shapeStr(inputShape) : typeof inputShape}`);
    }
    return summaryTable(this, inputShape);
  }

  /** PyTorch's repr: the layer tree with each layer's settings. */
  toString(): string {
    return describe(this);
  }

  /** console.log / util.inspect in Node and Deno print toString(). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** PlanOwner: a plan cache of this module, cleared on dispose. */
  adoptCache(cache: { clear(): void }): void {
    this.caches.push(cache);
  }
}

/** Rows [from, to) of a tensor along dim 0, as a view. */
function rows(t: Tensor, from: number, to: number): Tensor {
  const row = t.data.length / t.shape[0];
  return new Tensor(t.data.subarray(from * row, to * row), [to - from, ...t.shape.slice(1)]);
}

/** Keys (or key problems) listed in an error: the first FEW, then how many more there are. */
const FEW = 5;
function firstFew(items: readonly string[], sep: string): string {
  if (items.length <= FEW + 1) return items.join(sep);
  return `${items.slice(0, FEW).join(sep)} and ${items.length - FEW} more (${items.length} in all)`;
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
