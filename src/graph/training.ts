/**
 * The seam between inference and training: what a Module (src/nn) knows of training, as types and one
 * interface. src/train implements the interface and installs it when it loads (train/trainer.ts), so
 * `nn` never imports `train`; the package entry (src/index.ts) loads both.
 */
import { WasmzooError } from '../errors.js';
import { optionKeys } from '../options.js';
import type { Tensor } from '../tensor.js';
import type { Value } from './graph.js';
import type { TrainGraph } from './tape.js';

export type LossName = 'crossEntropy' | 'mse' | 'bceWithLogits';

/** What the options see of an optimizer: every class of `wasmzoo.optim` is one. */
export interface OptimizerLike {
  /** Learning rate; schedules change it between steps. */
  lr: number;
  /** The lr given at construction (schedules start from it). */
  readonly initialLr: number;
  /** Steps taken. */
  readonly stepCount: number;
}

/** A learning-rate schedule stepped once per epoch by fit (or by hand), as torch.optim.lr_scheduler. */
export interface LRScheduler {
  step(): void;
}

export interface TrainOptions {
  /** Default 'crossEntropy' (logits and class indices). */
  loss?: LossName;
  /** Default Adam with lr 1e-3 (any optimizer of `wasmzoo.optim`). */
  optimizer?: OptimizerLike;
  /** Clip the global gradient norm to this value before each update. */
  clipGradNorm?: number;
  /** Seed for shuffling and dropout masks (default 0). */
  seed?: number;
}

export interface FitProgress {
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
}

export interface EpochLogs {
  epoch: number;
  loss: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  seconds: number;
}

export interface FitOptions extends TrainOptions {
  epochs?: number;
  batchSize?: number;
  /** Shuffle the training rows each epoch with the seeded generator (default true). */
  shuffle?: boolean;
  validationData?: [Tensor, Tensor];
  /** Hold out this fraction of the rows (the last ones, as Keras) for validation. */
  validationSplit?: number;
  /** A schedule stepped after every epoch (PyTorch convention), built on the optimizer. */
  scheduler?: (optimizer: OptimizerLike) => LRScheduler;
  onProgress?: (p: FitProgress) => void;
  onEpochEnd?: (logs: EpochLogs) => void;
  signal?: AbortSignal;
}

const TRAIN_KEYS = { loss: 1, optimizer: 1, clipGradNorm: 1, seed: 1 } as const;
export const TRAIN_OPTION_KEYS = optionKeys<TrainOptions>(TRAIN_KEYS);
export const FIT_OPTION_KEYS = optionKeys<FitOptions>({
  ...TRAIN_KEYS, epochs: 1, batchSize: 1, shuffle: 1, validationData: 1, validationSplit: 1, scheduler: 1, onProgress: 1, onEpochEnd: 1, signal: 1,
});

export interface History {
  epochs: EpochLogs[];
}

export interface EvaluateOptions {
  loss?: LossName;
  batchSize?: number;
}

export const EVALUATE_OPTION_KEYS = optionKeys<EvaluateOptions>({ loss: 1, batchSize: 1 });

/**
 * A model whose training objective is not one of the standard losses on its output (e.g. a VAE: ELBO over
 * the decoder's logits plus a KL term on the encoder's mu/logvar). The trainer calls this instead of
 * build + the loss: it records the training forward, the loss ops (setting holder.value each step and
 * seeding gradients with g.addGrad) and returns the value kept as the step's output. `target` is the y
 * given to trainStep/fit (NHWC inside when 4-D), as written by the trainer for a non-crossEntropy loss.
 */
export interface TrainingLossModel {
  buildTrainingLoss(g: TrainGraph, x: Value, target: Value, holder: { value: number }): Value;
}

/**
 * Training as a Module reaches it. `model` is the Module itself (typed loosely here: this layer sits below
 * `nn`); the implementation keeps one trainer per model and releases it on `release`.
 */
export interface Training {
  trainStep(model: object, x: Tensor, y: Tensor, opts: TrainOptions): number;
  fit(model: object, x: Tensor, y: Tensor, opts: FitOptions): Promise<History>;
  evaluate(model: object, x: Tensor, y: Tensor, opts: EvaluateOptions): { loss: number; accuracy?: number };
  /** Free the model's training state (on dispose). */
  release(model: object): void;
}

let installed: Training | undefined;

/** Called once by src/train when it loads. */
export function installTraining(t: Training): void {
  installed = t;
}

/** The installed training, or a clear error when only the inference half of the package was loaded. */
export function training(): Training {
  if (!installed) {
    throw new WasmzooError('E_RUNTIME', 'training is not loaded: import the package entry (wasmzoo), which includes it');
  }
  return installed;
}

/** Free a model's training state if training is loaded at all (dispose must work without it). */
export function releaseTraining(model: object): void {
  installed?.release(model);
}
