/**
 * Optimizers and learning-rate schedules with torch.optim's update rules
 * (https://pytorch.org/docs/stable/optim.html): SGD (momentum, dampening, Nesterov, weight decay), Adam and
 * AdamW. State lives in the arena beside the parameters; a step is one kernel call per parameter.
 */
import { WasmzooError } from '../errors.js';
import { checkOptions, optionKeys } from '../options.js';
import { writeSafetensors } from '../io/safetensors.js';
import type { LRScheduler, OptimizerLike } from '../graph/training.js';
import type { ParamSlot, ParamStore } from './params.js';

export type { LRScheduler };

export abstract class Optimizer implements OptimizerLike {
  /** Learning rate; schedules change it between steps. */
  lr: number;
  /** The lr given at construction (schedules start from it). */
  readonly initialLr: number;
  /** Steps taken. */
  stepCount = 0;
  protected store: ParamStore | undefined;
  protected state = new Map<ParamSlot, number[]>();

  constructor(lr: number) {
    if (!(lr >= 0)) throw new WasmzooError('E_ARGUMENT', `${this.constructor.name}: lr must be >= 0, got ${lr}`);
    this.lr = lr;
    this.initialLr = lr;
  }

  /** Floats of state per parameter value (momentum buffer, Adam's m and v). */
  protected abstract readonly stateBuffers: number;

  /** Bind to a model's parameter store (allocates state buffers, zeroed). */
  attach(store: ParamStore): void {
    if (this.store === store) return;
    this.detach();
    this.store = store;
    const arena = store.rt.arena;
    for (const s of store.slots) {
      const bufs: number[] = [];
      for (let i = 0; i < this.stateBuffers; i++) {
        const p = arena.alloc(s.size * 4);
        arena.fill(p, s.size);
        bufs.push(p);
      }
      this.state.set(s, bufs);
    }
  }

  detach(): void {
    if (!this.store) return;
    for (const bufs of this.state.values()) for (const p of bufs) this.store.rt.arena.release(p);
    this.state.clear();
    this.store = undefined;
  }

  /** Apply one update to every parameter from its gradient. */
  step(): void {
    if (!this.store) throw new WasmzooError('E_RUNTIME', `${this.constructor.name}: not attached to a model (use model.fit or model.trainStep)`);
    this.stepCount++;
    for (const s of this.store.slots) this.update(s, this.state.get(s)!);
  }

  protected abstract update(s: ParamSlot, state: number[]): void;

  /**
   * The optimizer state by parameter name, as tensors: `<name>.momentum_buffer` (SGD) or `<name>.exp_avg`,
   * `<name>.exp_avg_sq` (Adam/AdamW), plus `step`. PyTorch's names, for saving next to the weights.
   */
  stateDict(): Record<string, { shape: number[]; data: Float32Array }> {
    const out: Record<string, { shape: number[]; data: Float32Array }> = {};
    if (!this.store) return out;
    const arena = this.store.rt.arena;
    for (const [s, bufs] of this.state) {
      this.stateNames.forEach((n, i) => {
        out[`${s.name}.${n}`] = { shape: [...s.param.shape], data: arena.read(bufs[i], s.size) };
      });
    }
    out.step = { shape: [], data: new Float32Array([this.stepCount]) };
    return out;
  }

  protected abstract readonly stateNames: string[];

  /** Hyper-parameters as PyTorch names them in a param group (lr, momentum / betas, eps, weight_decay, ...). */
  protected abstract hyper(): Record<string, unknown>;

  /**
   * The optimizer state as safetensors bytes in PyTorch's layout: `state.<i>.<buffer>` for the i-th
   * parameter of `model.parameters()` order (momentum_buffer, or exp_avg / exp_avg_sq and step), with the
   * param group's hyper-parameters and the parameter names in the metadata. tools/optimizer_state.py turns it
   * into `optimizer.load_state_dict(...)` for the equivalent torch.optim optimizer.
   */
  saveSafetensors(): Uint8Array {
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    const names: string[] = [];
    if (this.store) {
      const arena = this.store.rt.arena;
      this.store.slots.forEach((s, i) => {
        names.push(s.name);
        const bufs = this.state.get(s)!;
        this.stateNames.forEach((n, j) => {
          tensors[`state.${i}.${n}`] = { shape: [...s.param.shape], data: arena.read(bufs[j], s.size) };
        });
        if (this.stateNames.includes('exp_avg')) tensors[`state.${i}.step`] = { shape: [], data: new Float32Array([this.stepCount]) };
      });
    }
    return writeSafetensors(tensors, {
      format: 'wasmzoo-optimizer',
      optimizer: this.constructor.name,
      step: String(this.stepCount),
      param_names: JSON.stringify(names),
      param_group: JSON.stringify({ lr: this.lr, ...this.hyper() }),
    });
  }
}

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

const SGD_OPTION_KEYS = optionKeys<SGDOptions>({ lr: 1, momentum: 1, dampening: 1, weightDecay: 1, nesterov: 1 });

/** torch.optim.SGD. */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  protected readonly stateBuffers: number;
  protected readonly stateNames: string[];
  constructor(opts: SGDOptions) {
    super(checkOptions('SGD', opts, SGD_OPTION_KEYS).lr);
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
    this.nesterov = opts.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new WasmzooError('E_ARGUMENT', 'SGD: Nesterov momentum requires a momentum and zero dampening (as PyTorch)');
    }
    this.stateBuffers = this.momentum > 0 ? 1 : 0;
    this.stateNames = this.momentum > 0 ? ['momentum_buffer'] : [];
  }
  protected hyper(): Record<string, unknown> {
    return { momentum: this.momentum, dampening: this.dampening, weight_decay: this.weightDecay, nesterov: this.nesterov };
  }
  protected update(s: ParamSlot, state: number[]): void {
    this.store!.rt.k.sgd_step(s.data, s.grad, state[0] ?? 0, s.size, this.lr, this.momentum, this.dampening,
      this.weightDecay, this.nesterov ? 1 : 0, this.stepCount === 1 ? 1 : 0);
  }
}

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

const ADAM_OPTION_KEYS = optionKeys<AdamOptions>({ lr: 1, betas: 1, eps: 1, weightDecay: 1 });

/** torch.optim.Adam (weight decay added to the gradient). */
export class Adam extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  protected readonly stateBuffers = 2;
  protected readonly stateNames = ['exp_avg', 'exp_avg_sq'];
  protected readonly decoupled: boolean = false;
  constructor(opts: AdamOptions = {}, defaultDecay = 0) {
    opts = checkOptions(new.target.name, opts, ADAM_OPTION_KEYS);
    super(opts.lr ?? 1e-3);
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? defaultDecay;
  }
  protected hyper(): Record<string, unknown> {
    return { betas: this.betas, eps: this.eps, weight_decay: this.weightDecay };
  }
  protected update(s: ParamSlot, state: number[]): void {
    this.store!.rt.k.adam_step(s.data, s.grad, state[0], state[1], s.size, this.lr, this.betas[0], this.betas[1],
      this.eps, this.weightDecay, this.decoupled ? 1 : 0, this.stepCount);
  }
}

/** torch.optim.AdamW (decoupled weight decay, default 0.01). */
export class AdamW extends Adam {
  protected override readonly decoupled = true;
  constructor(opts: AdamOptions = {}) {
    super(opts, 0.01);
  }
}

const STEP_LR_OPTION_KEYS = optionKeys<{ stepSize: number; gamma?: number }>({ stepSize: 1, gamma: 1 });
const COSINE_OPTION_KEYS = optionKeys<{ tMax: number; etaMin?: number }>({ tMax: 1, etaMin: 1 });

/** lr = initial * gamma^floor(epoch / stepSize). */
export class StepLR implements LRScheduler {
  private epoch = 0;
  constructor(private readonly optimizer: OptimizerLike, private readonly opts: { stepSize: number; gamma?: number }) {
    checkOptions('StepLR', opts, STEP_LR_OPTION_KEYS);
  }
  step(): void {
    this.epoch++;
    this.optimizer.lr = this.optimizer.initialLr * Math.pow(this.opts.gamma ?? 0.1, Math.floor(this.epoch / this.opts.stepSize));
  }
}

/** lr = etaMin + (initial - etaMin) * (1 + cos(pi * t / tMax)) / 2 (the closed form of CosineAnnealingLR). */
export class CosineAnnealingLR implements LRScheduler {
  private t = 0;
  constructor(private readonly optimizer: OptimizerLike, private readonly opts: { tMax: number; etaMin?: number }) {
    checkOptions('CosineAnnealingLR', opts, COSINE_OPTION_KEYS);
  }
  step(): void {
    this.t++;
    const min = this.opts.etaMin ?? 0;
    this.optimizer.lr = min + ((this.optimizer.initialLr - min) * (1 + Math.cos((Math.PI * this.t) / this.opts.tMax))) / 2;
  }
}

/** torch.nn.utils.clip_grad_norm_: scale all gradients so their global L2 norm is at most maxNorm; returns the norm. */
export function clipGradNorm(store: ParamStore, maxNorm: number): number {
  const k = store.rt.k;
  let sq = 0;
  for (const s of store.slots) sq += k.sum_squares(s.grad, s.size);
  const norm = Math.sqrt(sq);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (const s of store.slots) k.scale_inplace(s.grad, s.size, coef);
  return norm;
}
