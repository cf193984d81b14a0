/**
 * The user-facing tensor: a Float32Array plus a shape, NCHW for images as in PyTorch. It lives in the
 * JavaScript heap; layers copy it into the wasm arena and copy results out, so a Tensor never dangles
 * when memory grows or a model is disposed.
 */
import { WasmzooError } from './errors.js';

export type Shape = readonly number[];

export class Tensor {
  readonly data: Float32Array;
  readonly shape: Shape;

  /** Throws E_SHAPE unless every dimension is a non-negative integer and `data.length` is their product. */
  constructor(data: Float32Array, shape: Shape) {
    checkDims(shape, 'Tensor', false);
    const n = numel(shape);
    if (data?.length !== n) throw new WasmzooError('E_SHAPE', `Tensor: shape ${shapeStr(shape)} holds ${n} values but data has ${data?.length}`);
    this.data = data;
    // a frozen shape cannot change under us, so it is shared rather than copied (per-call result tensors)
    this.shape = Object.isFrozen(shape) ? shape : Object.freeze([...shape]);
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** A tensor over the same data with another shape (one dimension may be -1). */
  reshape(shape: Shape): Tensor {
    return new Tensor(this.data, resolveShape(shape, this.data.length, 'reshape'));
  }

  /** Nested arrays, for printing and tests. */
  toArray(): unknown {
    const rec = (dim: number, off: number): unknown => {
      if (dim === this.shape.length) return this.data[off];
      const stride = this.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: this.shape[dim] }, (_, i) => rec(dim + 1, off + i * stride));
    };
    return rec(0, 0);
  }

  /**
   * `tensor([[0.1000, 0.2000], ...], shape=[2, 2])`, as PyTorch prints: 4 decimals (scientific for very
   * large or small values), at most 3 values at each end of a dimension longer than 6 when the tensor holds
   * more than 1000 values.
   */
  toString(): string {
    const sh = this.shape, d = this.data;
    const summarise = d.length > 1000;
    const fmt = (v: number) => (v === 0 || (Math.abs(v) >= 1e-4 && Math.abs(v) < 1e6) || !Number.isFinite(v) ? (Number.isFinite(v) ? v.toFixed(4) : String(v)) : v.toExponential(4));
    const rec = (dim: number, off: number, pad: string): string => {
      if (dim === sh.length) return fmt(d[off]);
      const n = sh[dim], stride = numel(sh.slice(dim + 1));
      const idx = summarise && n > 6 ? [0, 1, 2, -1, n - 3, n - 2, n - 1] : Array.from({ length: n }, (_, i) => i);
      const parts = idx.map((i) => (i < 0 ? '...' : rec(dim + 1, off + i * stride, pad + ' ')));
      return `[${parts.join(dim === sh.length - 1 ? ', ' : `,\n${pad} `)}]`;
    };
    return `tensor(${sh.length ? rec(0, 0, '       ') : fmt(d[0])}, shape=${shapeStr(sh)})`;
  }

  /** console.log / util.inspect in Node and Deno print toString(). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** Index of the largest value in each row of the last dimension. */
  argmax(): number[] {
    const cols = this.shape[this.shape.length - 1] ?? 1;
    const rows = this.data.length / cols;
    const out: number[] = [];
    for (let r = 0; r < rows; r++) out.push(argmaxAt(this.data, r * cols, cols));
    return out;
  }
}

/** Index (0..n-1) of the first largest of the n values at data[offset..]: a row's predicted class. */
export function argmaxAt(data: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let c = 1; c < n; c++) if (data[offset + c] > data[offset + best]) best = c;
  return best;
}

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Why `shape` is not a valid shape, or undefined when it is: every dimension a non-negative safe integer;
 * with `inferOne`, one (and only one) may be -1. Shapes come from callers and files: a negative or fractional
 * size would reach the planner and the arena as a nonsense byte count.
 */
export function shapeProblem(shape: unknown, inferOne = false): string | undefined {
  if (!Array.isArray(shape)) return `shape must be an array of dimensions, got ${shape === null ? 'null' : typeof shape}`;
  let inferred = 0;
  for (const d of shape) {
    if (inferOne && d === -1) {
      if (++inferred > 1) return `shape ${shapeStr(shape)} has more than one -1 (at most one -1 can be inferred)`;
    } else if (!Number.isSafeInteger(d) || d < 0) {
      const allowed = inferOne ? 'a non-negative integer or a single -1' : 'a non-negative integer';
      return `bad dimension ${typeof d === 'string' ? JSON.stringify(d) : String(d)} in shape ${shapeStr(shape)} (each must be ${allowed})`;
    }
  }
  return undefined;
}

function checkDims(shape: Shape, what: string, inferOne: boolean): void {
  const problem = shapeProblem(shape, inferOne);
  if (problem) throw new WasmzooError('E_SHAPE', `${what}: ${problem}`);
}

function resolveShape(shape: Shape, n: number, what: string): number[] {
  checkDims(shape, what, true);
  const s = [...shape];
  const unknown = s.indexOf(-1);
  if (unknown >= 0) {
    const rest = s.reduce((a, d, i) => (i === unknown ? a : a * d), 1);
    if (rest === 0 || n % rest !== 0) throw new WasmzooError('E_SHAPE', `${what}: cannot infer -1 in ${shapeStr(shape)} for ${n} elements`);
    s[unknown] = n / rest;
  }
  if (numel(s) !== n) throw new WasmzooError('E_SHAPE', `${what}: shape ${shapeStr(shape)} holds ${numel(s)} elements but the data has ${n}`);
  return s;
}

/**
 * `wasmzoo.tensor(data, shape)`: data is a flat array-like (copied into a Float32Array unless it already
 * is one) or nested arrays (shape inferred). Shape may contain one -1.
 */
export function tensor(data: ArrayLike<number> | NestedArray, shape?: Shape): Tensor {
  let flat: Float32Array;
  let inferred: number[] | undefined;
  if (data instanceof Float32Array) flat = data;
  else if (Array.isArray(data) && data.length > 0 && Array.isArray(data[0])) {
    inferred = [];
    let level: unknown = data;
    while (Array.isArray(level)) { inferred.push(level.length); level = level[0]; }
    flat = Float32Array.from((data as unknown[]).flat(Infinity) as number[]);
  } else if (ArrayBuffer.isView(data) || Array.isArray(data)) flat = Float32Array.from(data as ArrayLike<number>);
  else throw new WasmzooError('E_ARGUMENT', `tensor: data must be an array or typed array, got ${typeof data}`);
  const s = shape ?? inferred ?? [flat.length];
  return new Tensor(flat, resolveShape(s, flat.length, 'tensor'));
}

export type NestedArray = number[] | NestedArray[];

/**
 * A tensor argument of a public entry, checked before anything is written to wasm memory (issue 15: a
 * plain { data, shape } whose data was shorter than its shape read stale arena memory; longer, it wrote
 * into the next model's weights). Accepts a Tensor or a plain `{ data, shape }` with numeric data (copied
 * to a Float32Array when it is not one); anything else is an E_ARGUMENT saying what was expected, and a
 * length that does not match the shape an E_SHAPE naming `where`, the shape and the length.
 */
export function tensorArg(where: string, x: unknown, what = 'input'): Tensor {
  if (x instanceof Tensor) return x;
  const kind = x === null ? 'null' : Array.isArray(x) ? 'an array' : ArrayBuffer.isView(x) ? (x as object).constructor.name : typeof x;
  if (x === null || typeof x !== 'object' || Array.isArray(x) || ArrayBuffer.isView(x) || !('data' in x) || !('shape' in x)) {
    throw new WasmzooError('E_ARGUMENT', `${where}: ${what} must be a Tensor, got ${kind}; wrap it with wasmzoo.tensor(data, shape)`);
  }
  const { data, shape } = x as { data: unknown; shape: unknown };
  if (!Array.isArray(shape)) throw new WasmzooError('E_SHAPE', `${where}: ${what}.shape must be an array of dimensions, got ${typeof shape}`);
  const numeric = data instanceof Float32Array || (ArrayBuffer.isView(data) && !(data instanceof DataView) && !(data instanceof BigInt64Array) && !(data instanceof BigUint64Array))
    || (Array.isArray(data) && data.every((v) => typeof v === 'number'));
  if (!numeric) throw new WasmzooError('E_ARGUMENT', `${where}: ${what}.data must be a Float32Array (or numbers), got ${data === null ? 'null' : Array.isArray(data) ? 'an array of non-numbers' : typeof data === 'object' ? (data as object).constructor.name : typeof data}`);
  const n = numel(shape as number[]);
  const len = (data as ArrayLike<number>).length;
  if (len !== n) throw new WasmzooError('E_SHAPE', `${where}: ${what} of shape ${shapeStr(shape as number[])} needs ${n} values, but its data has ${len}`);
  try {
    return new Tensor(data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>), shape as number[]);
  } catch (e) {
    if (e instanceof WasmzooError) throw new WasmzooError(e.code, `${where}: ${what}: ${e.message}`);
    throw e;
  }
}
