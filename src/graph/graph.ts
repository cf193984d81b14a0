/**
 * Planning and running a forward pass.
 *
 * A model's `build(g, x)` walks its layers once per input shape and records, instead of computing:
 *   - buffers (activation tensors) with their sizes, and when each is first written and last read;
 *   - ops: closures that call kernels with the pointers of their buffers.
 * `Plan` then assigns every buffer an offset inside ONE arena block (greedy best fit over lifetimes, so
 * buffers whose lifetimes don't overlap share memory), plus one scratch block sized to the largest
 * request. Running the plan is only kernel calls: nothing is allocated per call.
 *
 * Values carry PyTorch's logical shape; 4-D image values are stored NHWC (channels contiguous), 2-D and
 * 3-D values row-major as PyTorch.
 */
import type { Runtime } from '../runtime/runtime.js';
import { WasmzooError } from '../errors.js';
import { numel, shapeStr, type Shape } from '../tensor.js';

export interface Value {
  /** PyTorch shape, e.g. [N, C, H, W]. */
  readonly shape: Shape;
  /** Buffer id holding the data. */
  readonly buf: number;
  /** Element offset inside that buffer (views such as a channel slice of a concat need no copy). */
  readonly offset?: number;
}

/** The byte pointer of every buffer by id (unsigned: the arena may pass 2 GiB). */
export type Pointers = Uint32Array;

/** An op receives the pointer table and the scratch pointer. */
export type Op = (ptr: Pointers, scratch: number) => void;

interface BufInfo { floats: number; first: number; last: number; }

export class GraphBuilder {
  readonly rt: Runtime;
  readonly bufs: BufInfo[] = [];
  readonly ops: Op[] = [];
  readonly names: string[] = [];
  scratchBytes = 0;

  constructor(rt: Runtime) {
    this.rt = rt;
  }

  /** A new activation buffer of `shape`, written by the next op. */
  value(shape: Shape): Value {
    const id = this.bufs.length;
    this.bufs.push({ floats: numel(shape), first: this.ops.length, last: this.ops.length });
    return { shape: [...shape], buf: id };
  }

  /** Record an op that reads `inputs` (keeps them alive until now) and writes its outputs. */
  op(name: string, inputs: readonly Value[], fn: Op): void {
    for (const v of inputs) this.bufs[v.buf].last = this.ops.length;
    this.names.push(name);
    this.ops.push(fn);
  }

  /** Reserve scratch bytes for the op being recorded (one scratch block serves all ops in turn). */
  scratch(bytes: number): void {
    if (bytes > this.scratchBytes) this.scratchBytes = bytes;
  }

  /** Keep a value alive to the end (model outputs). */
  keep(v: Value): void {
    this.bufs[v.buf].last = Number.MAX_SAFE_INTEGER;
  }
}

const ALIGN_FLOATS = 16; // 64 bytes

/**
 * A planned pass for one set of input shapes: offsets of every value and of the scratch inside the
 * arena's shared activation region (runtime/arena.ts), which is as large as the largest live plan.
 * Inputs are written before op 0 (so nothing may share their memory); outputs stay alive to the end.
 * NOTE: the region is shared by every plan of the runtime, so a plan's values hold only until the next
 * plan runs: callers copy outputs out right after run() (Module.forward, IOPlan, the trainer do).
 */
export class Plan {
  readonly rt: Runtime;
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  private readonly ops: Op[];
  /** Byte offset of every buffer in the region, by buffer id. */
  private readonly offsets: Float64Array;
  private readonly ptr: Pointers;
  /** Region pointer the table was last based on. */
  private base = -1;
  private scratchPtr = 0;
  /** Byte offset of the scratch in the region (after the values), or -1 when no op asked for scratch. */
  private readonly scratchOffset: number;
  /** Bytes of activations (values) this plan needs; the scratch comes on top. */
  readonly activationBytes: number;
  /** Bytes of the region this plan needs (activations + scratch). */
  readonly regionBytes: number;
  private disposed = false;

  constructor(g: GraphBuilder, inputs: Value | readonly Value[], outputs: Value | readonly Value[]) {
    this.rt = g.rt;
    this.inputs = Array.isArray(inputs) ? inputs : [inputs as Value];
    this.outputs = Array.isArray(outputs) ? outputs : [outputs as Value];
    this.ops = g.ops;
    for (const v of this.outputs) g.keep(v);
    for (const v of this.inputs) g.bufs[v.buf].first = -1;
    const layout = assignOffsets(g.bufs);
    this.activationBytes = layout.total * 4;
    this.scratchOffset = g.scratchBytes > 0 ? this.activationBytes : -1;
    this.regionBytes = Math.max(64, this.activationBytes + g.scratchBytes);
    this.offsets = Float64Array.from(layout.offset, (o) => o * 4);
    this.ptr = new Uint32Array(g.bufs.length);
    this.rt.arena.activations.reserve(this.regionBytes);
  }

  /** Point the table at the region's current address (it moves when a larger plan is made). */
  private rebase(): void {
    const base = this.rt.arena.activations.ptr;
    if (base === this.base) return;
    if (this.disposed) throw new WasmzooError('E_DISPOSED', 'internal: a disposed plan was run');
    const { ptr, offsets } = this;
    for (let i = 0; i < ptr.length; i++) ptr[i] = base + offsets[i];
    this.scratchPtr = this.scratchOffset >= 0 ? base + this.scratchOffset : 0;
    this.base = base;
  }

  /** The first input (single-input plans). */
  get input(): Value {
    return this.inputs[0];
  }

  /** The first output (single-output plans). */
  get output(): Value {
    return this.outputs[0];
  }

  /** Byte pointer of a value (valid until another plan is made). */
  pointer(v: Value): number {
    this.rebase();
    return this.ptr[v.buf] + (v.offset ?? 0) * 4;
  }

  run(): void {
    this.rebase();
    const { ops, ptr, scratchPtr } = this;
    for (let i = 0; i < ops.length; i++) ops[i](ptr, scratchPtr);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.rt.arena.activations.unreserve();
  }
}

/**
 * Offsets (in floats) for buffers with lifetimes [first, last]: largest first, each placed at the lowest
 * offset that does not overlap any already-placed buffer whose lifetime intersects its own.
 */
export function assignOffsets(bufs: readonly BufInfo[]): { offset: number[]; total: number } {
  const order = bufs.map((_, i) => i).sort((a, b) => bufs[b].floats - bufs[a].floats || a - b);
  const offset = new Array<number>(bufs.length).fill(0);
  const placed: number[] = [];
  let total = 0;
  for (const i of order) {
    const b = bufs[i];
    const size = Math.ceil(b.floats / ALIGN_FLOATS) * ALIGN_FLOATS;
    const conflicts = placed
      .filter((j) => bufs[j].first <= b.last && b.first <= bufs[j].last)
      .map((j) => [offset[j], offset[j] + Math.ceil(bufs[j].floats / ALIGN_FLOATS) * ALIGN_FLOATS])
      .sort((x, y) => x[0] - y[0]);
    let at = 0;
    for (const [s, e] of conflicts) {
      if (at + size <= s) break;
      if (e > at) at = e;
    }
    offset[i] = at;
    placed.push(i);
    total = Math.max(total, at + size);
  }
  return { offset, total };
}

/** Throw a shape error that names the layer, and what was expected vs found. */
export function shapeError(layer: string, expected: string, actual: Shape): WasmzooError {
  return new WasmzooError('E_SHAPE', `${layer}: expected input ${expected}, got ${shapeStr(actual)}`);
}

/** NCHW (API) -> NHWC (engine). A single channel needs no copy: both layouts are the same bytes. */
export function toNHWC(g: GraphBuilder, x: Value): Value {
  if (x.shape.length !== 4 || x.shape[1] === 1) return x;
  const [n, c, h, w] = x.shape;
  const y = g.value(x.shape);
  const k = g.rt.k;
  g.op('nchw_to_nhwc', [x], (p) => k.nchw_to_nhwc(p[y.buf], p[x.buf] + (x.offset ?? 0) * 4, n, c, h, w));
  return y;
}

/** NHWC (engine) -> NCHW (API). */
export function toNCHW(g: GraphBuilder, x: Value): Value {
  if (x.shape.length !== 4 || x.shape[1] === 1) return x;
  const [n, c, h, w] = x.shape;
  const y = g.value(x.shape);
  const k = g.rt.k;
  g.op('nhwc_to_nchw', [x], (p) => k.nhwc_to_nchw(p[y.buf], p[x.buf] + (x.offset ?? 0) * 4, n, c, h, w));
  return y;
}

/** Byte pointer of a value at run time. */
export function at(p: Pointers, v: Value): number {
  return p[v.buf] + (v.offset ?? 0) * 4;
}
