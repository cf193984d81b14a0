/**
 * Parameters: the values a model learns (and its buffers, e.g. batch-norm running statistics), with a
 * version that packed weights and cached plans key on.
 *
 * JavaScript Float32Arrays are the source of truth between trainings. While a model trains, its values
 * live in the arena (src/train/params.ts) and are newer than these arrays; the trainer then registers a
 * `Pending` copy-back. Reading any parameter (`data`) or the parameter epoch first runs every pending
 * copy-back, so forward, stateDict and saving always see the trained values: nobody has to sync by hand.
 */
import { WasmzooError } from '../errors.js';
import { Tensor, numel, shapeStr, type Shape } from '../tensor.js';

/** Bumped whenever any parameter changes, so cached plans (which hold packed weights) are checked. */
let weightEpoch = 0;

/** Values newer than the Parameters' arrays, copied back on the next read (see Parameter.data). */
export interface Pending {
  /** Copy the newer values into the Parameters (with Parameter.set). */
  sync(): void;
}

const pending = new Set<Pending>();

/** Register newer values to copy back before the next parameter read (idempotent). */
export function markPending(p: Pending): void {
  pending.add(p);
}

/** Forget a pending copy-back without running it (its owner is being disposed after a flush of its own). */
export function dropPending(p: Pending): void {
  pending.delete(p);
}

function flushPending(): void {
  // delete before flushing: a flush reads parameters, which must not re-enter it
  for (const p of pending) {
    pending.delete(p);
    p.sync();
  }
}

/** The parameter epoch: unchanged means no parameter anywhere has changed since it was last read. */
export function parameterEpoch(): number {
  if (pending.size) flushPending();
  return weightEpoch;
}

/**
 * `wasmzoo.nn.Parameter`: a learnable tensor or a buffer (running statistics) of a module, as
 * `torch.nn.Parameter`. What `namedParameters()` / `namedBuffers()` return: live, not a copy. `data` (its
 * values, a Float32Array) and `shape` read like a Tensor's (a Parameter passes wherever a `{ data, shape }`
 * does); `set(values)` replaces the values; `toTensor()` copies them into a wasmzoo.Tensor.
 */
export class Parameter {
  private readonly values: Float32Array;
  readonly shape: Shape;
  /** Stored as an integer in PyTorch (num_batches_tracked): saved as I64. */
  readonly integer: boolean;
  version = 0;
  constructor(shape: Shape, data?: Float32Array, integer = false) {
    this.shape = Object.freeze([...shape]);
    this.values = data ?? new Float32Array(numel(shape));
    this.integer = integer;
  }
  /** The values, including what a running training has updated since they were last read. */
  get data(): Float32Array {
    if (pending.size) flushPending();
    return this.values;
  }
  /**
   * The values as this object holds them, without copying back a training's newer ones: for the trainer
   * itself (it owns those newer values) and for initialisers.
   */
  get raw(): Float32Array {
    return this.values;
  }
  /** Number of values. */
  get size(): number {
    return this.values.length;
  }
  /** A Tensor holding a copy of the current values. */
  toTensor(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }
  /** Replace the values (same shape); marks dependent packed weights stale. */
  set(data: ArrayLike<number>): void {
    if (data.length !== this.values.length) {
      throw new WasmzooError('E_SHAPE', `parameter of shape ${shapeStr(this.shape)} needs ${this.values.length} values, got ${data.length}`);
    }
    this.values.set(data);
    this.version++;
    weightEpoch++;
  }
}
