/**
 * How the nn ops reach wasmzoo's kernels: arena blocks for one call (all released when it returns or throws,
 * so nothing leaks across calls), and packed weights cached per node.
 *
 * Packed weights: Conv and Gemm/MatMul pack their weight operand into the kernels' layout (conv2d_pack_weights,
 * the Winograd transform, gemm_pack_b). Packing costs a pass over the weights, so the block is kept per node
 * and reused while the node sees the same weight tensor (and the same data array): initializers are the same
 * objects on every call of a session. A different tensor (a weight fed as a graph input) is packed afresh and
 * replaces the old block, so a node holds at most one block. The block is freed when the node (its model) is
 * garbage-collected.
 * NOTE: a weight fed as a graph input and mutated IN PLACE between calls (same tensor, same array) is not
 * seen; feed a new tensor instead (the session never mutates inputs, and ops never mutate theirs).
 */
import type { Runtime } from '../../index.js';
import type { OpNode, OpContext } from './types.js';

/** Arena blocks of one op call. */
export class ArenaScope {
  private readonly blocks: number[] = [];
  constructor(readonly rt: Runtime) {}
  /** A block of `floats` 4-byte words (at least one). */
  alloc(floats: number): number {
    const p = this.rt.arena.alloc(Math.max(1, floats) * 4);
    this.blocks.push(p);
    return p;
  }
  /** A block holding a copy of `data`. */
  put(data: Float32Array): number {
    const p = this.alloc(data.length);
    this.rt.arena.write(p, data);
    return p;
  }
  /** Bytes of scratch (0 allowed: returns 0, which kernels read as "none"). */
  scratch(bytes: number): number {
    return bytes > 0 ? this.alloc(Math.ceil(bytes / 4)) : 0;
  }
  read(ptr: number, n: number): Float32Array {
    return this.rt.arena.read(ptr, n);
  }
  /** Hands the block `ptr` (allocated here) to the caller: release() leaves it (an arena-resident value, nhwc.ts). */
  keep(ptr: number): void {
    const i = this.blocks.lastIndexOf(ptr);
    if (i >= 0) this.blocks.splice(i, 1);
  }
  release(): void {
    for (const p of this.blocks) this.rt.arena.release(p);
    this.blocks.length = 0;
  }
}

/** Run `fn` with arena blocks that are all released afterwards. */
export function withArena<T>(rt: Runtime, fn: (s: ArenaScope) => T): T {
  const s = new ArenaScope(rt);
  try {
    return fn(s);
  } finally {
    s.release();
  }
}

interface Held { rt: Runtime; ptr: number; }
interface Entry { held: Held; keys: readonly unknown[]; }

const packedByNode = new WeakMap<OpNode, Map<string, Entry>>();
// engines without FinalizationRegistry keep a dropped model's blocks (bounded: one per weight of each node)
const freeOnCollect = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry<Held[]>((list) => {
    for (const h of list) if (h.ptr) h.rt.arena.release(h.ptr);
  })
  : undefined;
const heldByNode = new WeakMap<OpNode, Held[]>();

/**
 * The packed block `slot` of `node` for these `keys` (compared by identity: the weight tensor, its data,
 * the bias...), (re)made by `fill(ptr)` into `bytes` bytes when a key changed.
 */
export function packedBlock(node: OpNode, rt: Runtime, slot: string, keys: readonly unknown[], bytes: number, fill: (ptr: number) => void): number {
  let slots = packedByNode.get(node);
  if (!slots) {
    slots = new Map();
    packedByNode.set(node, slots);
    const list: Held[] = [];
    heldByNode.set(node, list);
    freeOnCollect?.register(node, list);
  }
  const e = slots.get(slot);
  if (e && e.held.rt === rt && e.keys.length === keys.length && e.keys.every((k, i) => k === keys[i])) return e.held.ptr;
  if (e) {
    e.held.rt.arena.release(e.held.ptr);
    e.held.ptr = 0;
    slots.delete(slot);
  }
  const ptr = rt.arena.alloc(Math.max(4, bytes));
  try {
    fill(ptr);
  } catch (err) {
    rt.arena.release(ptr);
    throw err;
  }
  const held: Held = { rt, ptr };
  const list = heldByNode.get(node)!;
  // keep only live blocks in the list the finalizer frees
  for (let i = list.length - 1; i >= 0; i--) if (list[i].ptr === 0) list.splice(i, 1);
  list.push(held);
  slots.set(slot, { held, keys });
  return ptr;
}

/**
 * Packed blocks are cached only for load-time constants: when any of the `weights` inputs is fed per call
 * (a graph input, which a caller may mutate in place), the node's blocks are freed so they are packed afresh.
 */
export function repackUnlessConstant(node: OpNode, ctx: OpContext, weights: readonly number[]): void {
  if (weights.some((i) => node.inputs[i] && !ctx.constant[i])) releasePacked(node);
}

/** Free every packed block of `node` now (tests; a model being dropped need not call it). */
export function releasePacked(node: OpNode): void {
  const list = heldByNode.get(node);
  if (list) for (const h of list) if (h.ptr) { h.rt.arena.release(h.ptr); h.ptr = 0; }
  packedByNode.delete(node);
  heldByNode.delete(node);
}
