/**
 * Training a Module: `trainStep` (one batch), `fit` (epochs over a dataset with shuffling, validation,
 * progress and cancellation), `evaluate` and `predict`. A step is planned once per batch shape like a
 * forward pass (forward, loss and backward ops in one plan), then runs kernels and the optimizer only:
 * nothing is allocated in the arena after the first step at a batch size.
 */
import { wordIndex } from '../runtime/arena.js';
import { WasmzooError } from '../errors.js';
import { runtime, type Runtime } from '../runtime/runtime.js';
import { Tensor, argmaxAt, shapeStr, type Shape } from '../tensor.js';
import { Plan, toNHWC, type Value } from '../graph/graph.js';
import { dropPending, markPending, type Pending } from '../graph/parameter.js';
import { TrainGraph, type StepState } from '../graph/tape.js';
import {
  installTraining, type EvaluateOptions, type FitOptions, type History, type EpochLogs, type TrainOptions, type TrainingLossModel,
} from '../graph/training.js';
import type { Module } from '../nn/module.js';
import { mulberry32 } from '../random.js';
import { ParamStore } from './params.js';
import { checkLoss, checkTarget, recordLoss, targetShape, type LossName } from './loss.js';
import { Adam, Optimizer, clipGradNorm } from './optim.js';

export type { EpochLogs, FitOptions, FitProgress, History, TrainOptions } from '../graph/training.js';

interface StepPlan {
  plan: Plan;
  out: Value;
  loss: { value: number };
}

function hasTrainingLoss(m: Module): m is Module & TrainingLossModel {
  return typeof (m as Partial<TrainingLossModel>).buildTrainingLoss === 'function';
}

/** The training state of one model on one runtime: parameters in the arena, optimizer, step plans. */
export class Trainer implements Pending {
  readonly model: Module;
  readonly rt: Runtime;
  readonly store: ParamStore;
  readonly loss: LossName;
  readonly optimizer: Optimizer;
  clip: number | undefined;
  private readonly state: StepState;
  private readonly plans = new Map<string, StepPlan>();
  /** Arena values newer than the model's Parameters. */
  private dirty = false;

  constructor(model: Module, opts: TrainOptions = {}) {
    this.model = model;
    this.rt = runtime();
    this.loss = checkLoss(opts.loss ?? 'crossEntropy');
    if (opts.optimizer !== undefined && !(opts.optimizer instanceof Optimizer)) {
      throw new WasmzooError('E_ARGUMENT', `${model.name}: optimizer must be one of wasmzoo.optim's (SGD, Adam, AdamW), got ${typeof opts.optimizer}`);
    }
    this.optimizer = opts.optimizer ?? new Adam({ lr: 1e-3 });
    this.clip = opts.clipGradNorm;
    this.state = { step: 0, seed: (opts.seed ?? 0) | 0 };
    this.store = new ParamStore(this.rt, model);
    this.optimizer.attach(this.store);
  }

  private planFor(xShape: Shape, yShape: Shape): StepPlan {
    const key = `${xShape.join('x')}|${yShape.join('x')}`;
    let sp = this.plans.get(key);
    if (sp) return sp;
    const g = new TrainGraph(this.rt, this.store, this.state);
    const xin = g.value(xShape);
    g.constant(xin);
    const x = toNHWC(g, xin);
    g.constant(x);
    const loss = { value: NaN };
    let out: Value, tin: Value;
    if (hasTrainingLoss(this.model)) {
      // the model records its own objective (e.g. a VAE's ELBO) and checks the target's shape
      tin = g.value(yShape);
      g.constant(tin);
      const target = toNHWC(g, tin);
      g.constant(target);
      out = this.model.buildTrainingLoss(g, x, target, loss);
    } else {
      out = this.model.build(g, x);
      checkTarget(this.loss, out.shape, yShape);
      tin = g.value(targetShape(this.loss, out.shape));
      g.constant(tin);
      const target = this.loss === 'crossEntropy' ? tin : toNHWC(g, tin);
      g.constant(target);
      recordLoss(g, this.loss, out, target, loss);
    }
    g.backward();
    const untouched = g.untouchedParams().map((p) => this.store.slot(p));
    if (untouched.length) {
      const f = this.rt.arena;
      g.op('zero_unused_grads', [], () => {
        for (const s of untouched) f.fill(s.grad, s.size);
      });
    }
    sp = { plan: new Plan(g, [xin, tin], [out]), out, loss };
    this.plans.set(key, sp);
    return sp;
  }

  /**
   * One optimisation step on a batch: x as the model takes it (NCHW images), y the target (class indices
   * for crossEntropy, else the output's shape). Returns the batch's mean loss.
   */
  step(x: Tensor, y: Tensor): number {
    const sp = this.planFor(x.shape, y.shape);
    this.store.upload();
    const arena = this.rt.arena;
    arena.write(sp.plan.pointer(sp.plan.inputs[0]), x.data);
    const tp = sp.plan.pointer(sp.plan.inputs[1]);
    if (this.loss === 'crossEntropy') {
      const classes = sp.out.shape[1];
      const i32 = arena.i32;
      const base = wordIndex(tp);
      for (let i = 0; i < y.data.length; i++) {
        const v = y.data[i];
        // the kernel indexes the logits with it: refuse anything out of range before it runs
        if (!(Number.isInteger(v) && v >= 0 && v < classes)) checkLabels(`${this.model.name}.trainStep`, y, classes);
        i32[base + i] = v;
      }
    } else arena.write(tp, y.data);
    this.state.step++;
    sp.plan.run();
    if (this.clip !== undefined) clipGradNorm(this.store, this.clip);
    this.optimizer.step();
    this.dirty = true;
    markPending(this); // the next read of any parameter copies the trained values back (sync)
    this.lastOut = sp;
    return sp.loss.value;
  }

  private lastOut: StepPlan | undefined;

  /** Number of correct argmax predictions of the last step's output against class labels y. */
  lastCorrect(y: Float32Array): number {
    const sp = this.lastOut!;
    const [rows, cols] = sp.out.shape;
    const f = this.rt.arena.f32;
    const base = wordIndex(sp.plan.pointer(sp.out));
    let correct = 0;
    for (let r = 0; r < rows; r++) if (argmaxAt(f, base + r * cols, cols) === y[r]) correct++;
    return correct;
  }

  /** Copy trained parameters back into the model (so forward, stateDict and saving see them). */
  sync(): void {
    if (!this.dirty) return;
    this.store.download();
    this.dirty = false;
  }

  dispose(): void {
    dropPending(this);
    for (const sp of this.plans.values()) sp.plan.dispose();
    this.plans.clear();
    this.optimizer.detach();
    this.store.dispose();
  }
}

/** Rows [from, from+count) of a tensor along dim 0, through an index permutation, into `out`. */
function gather(src: Tensor, order: Uint32Array, from: number, count: number, out: Float32Array): void {
  const row = src.data.length / src.shape[0];
  for (let i = 0; i < count; i++) {
    const r = order[from + i];
    out.set(src.data.subarray(r * row, (r + 1) * row), i * row);
  }
}

function slice(t: Tensor, from: number, to: number): Tensor {
  const row = t.data.length / t.shape[0];
  return new Tensor(t.data.subarray(from * row, to * row), [to - from, ...t.shape.slice(1)]);
}

function seededShuffle(order: Uint32Array, seed: number): void {
  const next = mulberry32(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
}

function checkLabels(name: string, y: Tensor, classes: number | undefined): void {
  for (let i = 0; i < y.data.length; i++) {
    const v = y.data[i];
    if (!Number.isInteger(v) || v < 0 || (classes !== undefined && v >= classes)) {
      throw new WasmzooError('E_ARGUMENT', `${name}: label ${i} is ${v}; crossEntropy needs integer class indices in [0, ${classes ?? 'classes'})`);
    }
  }
}

const trainers = new WeakMap<Module, Trainer>();
/** The trainer of a model for these options (re-made when loss or optimizer change). */
export function trainerFor(model: Module, opts: TrainOptions): Trainer {
  let t = trainers.get(model);
  const loss = opts.loss ?? 'crossEntropy';
  if (t && (t.loss !== loss || (opts.optimizer && opts.optimizer !== t.optimizer))) {
    t.sync();
    t.dispose();
    t = undefined;
  }
  if (!t) {
    t = new Trainer(model, opts);
    trainers.set(model, t);
  }
  t.clip = opts.clipGradNorm;
  return t;
}

/** Forget a model's trainer (on dispose). */
export function disposeTrainer(model: Module): void {
  const t = trainers.get(model);
  if (t) {
    t.dispose();
    trainers.delete(model);
  }
}

const yieldToEventLoop = () => new Promise<void>((r) => setTimeout(r, 0));

/** Keras-style fit with PyTorch semantics (mean losses, torch.optim rules). */
export async function fit(model: Module, x: Tensor, y: Tensor, opts: FitOptions = {}): Promise<History> {
  const loss = checkLoss(opts.loss ?? 'crossEntropy');
  const n = x.shape[0];
  if (y.shape[0] !== n) {
    throw new WasmzooError('E_SHAPE', `${model.name}.fit: x has ${n} rows but y has ${y.shape[0]} (shapes ${shapeStr(x.shape)} and ${shapeStr(y.shape)})`);
  }
  if (loss === 'crossEntropy') checkLabels(`${model.name}.fit`, y, undefined);
  const epochs = opts.epochs ?? 1;
  const batchSize = opts.batchSize ?? 32;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new WasmzooError('E_ARGUMENT', `fit: batchSize must be a positive integer, got ${batchSize}`);
  let xTrain = x, yTrain = y, validation = opts.validationData;
  if (opts.validationSplit !== undefined) {
    if (!(opts.validationSplit > 0 && opts.validationSplit < 1)) throw new WasmzooError('E_ARGUMENT', `fit: validationSplit must be in (0, 1), got ${opts.validationSplit}`);
    const cut = Math.floor(n * (1 - opts.validationSplit));
    xTrain = slice(x, 0, cut);
    yTrain = slice(y, 0, cut);
    validation = [slice(x, cut, n), slice(y, cut, n)];
  }
  const rows = xTrain.shape[0];
  const trainer = trainerFor(model, opts);
  const scheduler = opts.scheduler?.(trainer.optimizer);
  const order = new Uint32Array(rows).map((_, i) => i);
  const xRow = xTrain.data.length / rows, yRow = yTrain.data.length / rows;
  const xb = new Float32Array(batchSize * xRow), yb = new Float32Array(batchSize * yRow);
  const batches = Math.ceil(rows / batchSize);
  const history: History = { epochs: [] };
  const seed = opts.seed ?? 0;
  let lastYield = Date.now();
  for (let epoch = 0; epoch < epochs; epoch++) {
    const t0 = Date.now();
    if (opts.shuffle ?? true) seededShuffle(order, (seed + 0x51ed27 * (epoch + 1)) | 0);
    let lossSum = 0, correct = 0;
    for (let b = 0; b < batches; b++) {
      if (opts.signal?.aborted) {
        trainer.sync();
        throw opts.signal.reason ?? new WasmzooError('E_ARGUMENT', 'fit aborted');
      }
      const from = b * batchSize, count = Math.min(batchSize, rows - from);
      gather(xTrain, order, from, count, xb);
      gather(yTrain, order, from, count, yb);
      const xs = new Tensor(xb.subarray(0, count * xRow), [count, ...xTrain.shape.slice(1)]);
      const ys = new Tensor(yb.subarray(0, count * yRow), [count, ...yTrain.shape.slice(1)]);
      const l = trainer.step(xs, ys);
      if (!Number.isFinite(l)) throw new WasmzooError('E_RUNTIME', `${model.name}.fit: loss became ${l} at epoch ${epoch + 1}, batch ${b + 1}: lower the learning rate or clip gradients`);
      lossSum += l * count;
      if (loss === 'crossEntropy') correct += trainer.lastCorrect(ys.data);
      opts.onProgress?.({ epoch: epoch + 1, batch: b + 1, batches, loss: l });
      if (Date.now() - lastYield > 50) {
        await yieldToEventLoop();
        lastYield = Date.now();
      }
    }
    scheduler?.step();
    trainer.sync();
    const logs: EpochLogs = { epoch: epoch + 1, loss: lossSum / rows, seconds: (Date.now() - t0) / 1000 };
    if (loss === 'crossEntropy') logs.accuracy = correct / rows;
    if (validation) {
      // the model's own evaluate: a model with its own objective (VAE) reports that
      const v = model.evaluate(validation[0], validation[1], { loss, batchSize: Math.max(batchSize, 256) });
      logs.valLoss = v.loss;
      if (v.accuracy !== undefined) logs.valAccuracy = v.accuracy;
    }
    history.epochs.push(logs);
    opts.onEpochEnd?.(logs);
  }
  return history;
}

/** Mean loss (and accuracy for crossEntropy) over a dataset, with inference semantics. */
export function evaluate(model: Module, x: Tensor, y: Tensor, opts: EvaluateOptions = {}): { loss: number; accuracy?: number } {
  const loss = checkLoss(opts.loss ?? 'crossEntropy');
  const out = model.predict(x, { batchSize: opts.batchSize });
  checkTarget(loss, out.shape, y.shape);
  let total = 0;
  if (loss === 'crossEntropy') {
    const [rows, cols] = out.shape;
    checkLabels(`${model.name}.evaluate`, y, cols);
    let correct = 0;
    for (let r = 0; r < rows; r++) {
      let max = -Infinity, best = 0;
      for (let c = 0; c < cols; c++) if (out.data[r * cols + c] > max) { max = out.data[r * cols + c]; best = c; }
      let s = 0;
      for (let c = 0; c < cols; c++) s += Math.exp(out.data[r * cols + c] - max);
      total += Math.log(s) + max - out.data[r * cols + y.data[r]];
      if (best === y.data[r]) correct++;
    }
    return { loss: total / rows, accuracy: correct / rows };
  }
  for (let i = 0; i < out.data.length; i++) {
    const o = out.data[i], t = y.data[i];
    total += loss === 'mse' ? (o - t) * (o - t) : Math.max(o, 0) - o * t + Math.log1p(Math.exp(-Math.abs(o)));
  }
  return { loss: total / out.data.length };
}

installTraining({
  trainStep: (model, x, y, opts) => trainerFor(model as Module, opts).step(x, y),
  fit: (model, x, y, opts) => fit(model as Module, x, y, opts),
  evaluate: (model, x, y, opts) => evaluate(model as Module, x, y, opts),
  release: (model) => disposeTrainer(model as Module),
});
