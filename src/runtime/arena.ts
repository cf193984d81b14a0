/**
 * The wasm memory arena: one WebAssembly.Memory per runtime, carved into 64-byte-aligned blocks
 * (a cache line, and enough for v128). Weights get long-lived blocks at load time; a model's activation
 * plan gets one block per input shape; both are returned on dispose(). After the first call with a shape
 * nothing is allocated, so `highWater` and the memory size stay flat (tested).
 *
 * First-fit over an address-ordered free list with coalescing: simple, no fragmentation surprises for the
 * allocate-once usage here. Memory grows on demand; growing detaches the old ArrayBuffer, so typed views
 * are re-made lazily (`f32`, `u8`).
 */
import { WasmzooError } from '../errors.js';

const ALIGN = 64;
const PAGE = 65536;

interface Block { ptr: number; size: number; }

export class Arena {
  readonly memory: WebAssembly.Memory;
  private readonly base: number;
  private top: number; // end of the carved region
  private free: Block[] = []; // address-ordered, coalesced
  private live = new Map<number, number>(); // ptr -> size
  private buf: ArrayBuffer | null = null;
  private f32view = new Float32Array(0);
  private u8view = new Uint8Array(0);
  private i32view = new Int32Array(0);
  /** Highest `top` ever reached, in bytes from address 0. */
  highWater: number;
  /** Appended to the error when the memory cannot grow (the runtime says which limit to raise). */
  growHint = '';
  /** The activation region every plan of this arena runs in (see ActivationRegion). */
  readonly activations = new ActivationRegion(this);

  constructor(memory: WebAssembly.Memory, heapBase: number) {
    this.memory = memory;
    this.base = Math.max(ALIGN, align(heapBase)); // never hand out address 0 (it means "absent")
    this.top = this.base;
    this.highWater = this.top;
  }

  /** Bytes currently handed out. */
  get used(): number {
    let s = 0;
    for (const v of this.live.values()) s += v;
    return s;
  }

  /** Allocate `bytes` (rounded up to 64), 64-byte aligned. Never returns 0. */
  alloc(bytes: number): number {
    if (!Number.isFinite(bytes) || bytes < 0) throw new WasmzooError('E_ARGUMENT', `arena: bad allocation size ${bytes}`);
    const size = Math.max(ALIGN, align(bytes));
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i];
      if (b.size >= size) {
        const ptr = b.ptr;
        if (b.size === size) this.free.splice(i, 1);
        else { b.ptr += size; b.size -= size; }
        this.live.set(ptr, size);
        return ptr;
      }
    }
    // Extend the top; if the last free block touches the top, reuse it.
    let ptr = this.top;
    const last = this.free[this.free.length - 1];
    if (last && last.ptr + last.size === this.top) {
      ptr = last.ptr;
      this.free.pop();
    }
    const end = ptr + size;
    this.ensure(end);
    this.top = end;
    if (end > this.highWater) this.highWater = end;
    this.live.set(ptr, size);
    return ptr;
  }

  /** Return a block from alloc(). Freeing 0 is a no-op; a double free throws. */
  release(ptr: number): void {
    if (ptr === 0) return;
    const size = this.live.get(ptr);
    if (size === undefined) throw new WasmzooError('E_ARGUMENT', `arena: release of unknown block ${ptr}`);
    this.live.delete(ptr);
    // insert address-ordered and coalesce with neighbours
    let i = 0;
    while (i < this.free.length && this.free[i].ptr < ptr) i++;
    this.free.splice(i, 0, { ptr, size });
    if (i + 1 < this.free.length && ptr + size === this.free[i + 1].ptr) {
      this.free[i].size += this.free[i + 1].size;
      this.free.splice(i + 1, 1);
    }
    if (i > 0 && this.free[i - 1].ptr + this.free[i - 1].size === ptr) {
      this.free[i - 1].size += this.free[i].size;
      this.free.splice(i, 1);
    }
    // give the tail back to the top so later big blocks can extend it
    const last = this.free[this.free.length - 1];
    if (last && last.ptr + last.size === this.top) {
      this.top = last.ptr;
      this.free.pop();
    }
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE);
    try {
      this.memory.grow(pages);
    } catch (e) {
      throw new WasmzooError('E_RUNTIME', `arena: cannot grow wasm memory to ${end} bytes (${(e as Error).message})${this.growHint}`);
    }
  }

  /** Float32 view of the whole memory, re-made after a grow. */
  get f32(): Float32Array {
    if (this.buf !== this.memory.buffer) this.remake();
    return this.f32view;
  }

  get u8(): Uint8Array {
    if (this.buf !== this.memory.buffer) this.remake();
    return this.u8view;
  }

  get i32(): Int32Array {
    if (this.buf !== this.memory.buffer) this.remake();
    return this.i32view;
  }

  private remake(): void {
    this.buf = this.memory.buffer;
    this.f32view = new Float32Array(this.buf);
    this.u8view = new Uint8Array(this.buf);
    this.i32view = new Int32Array(this.buf);
  }

  /** Copy floats into the arena at byte pointer ptr. */
  write(ptr: number, data: ArrayLike<number>): void {
    this.f32.set(data, wordIndex(ptr));
  }

  /** Copy `n` floats out of the arena at ptr into a new (or given) Float32Array. */
  read(ptr: number, n: number, out?: Float32Array): Float32Array {
    const o = out ?? new Float32Array(n);
    const i = wordIndex(ptr);
    o.set(this.f32.subarray(i, i + n));
    return o;
  }

  /** Set `n` floats at byte pointer ptr to `value`. */
  fill(ptr: number, n: number, value = 0): void {
    const i = wordIndex(ptr);
    this.f32.fill(value, i, i + n);
  }

  /** Copy `n` floats from byte pointer src to byte pointer dst (the ranges may overlap). */
  copy(dst: number, src: number, n: number): void {
    const s = wordIndex(src);
    this.f32.copyWithin(wordIndex(dst), s, s + n);
  }
}

/**
 * One block that every plan's activations and scratch live in, sized to the largest plan still alive.
 * Forwards (and training steps) run synchronously one at a time and copy their results out before the
 * next starts, so plans need not hold memory of their own: activation memory is bounded by the largest
 * plan, not the sum over every input shape a model has seen (issue 15, item 4: LeNet-5 at batch sizes
 * 1..200 held 502 MB). Plans keep offsets into the region and re-base when it moves (it moves only when a
 * larger plan is made, never during a run).
 */
export class ActivationRegion {
  /** Byte pointer of the region (0 while no plan is alive). */
  ptr = 0;
  /** Its size in bytes. */
  size = 0;
  private users = 0;
  constructor(private readonly arena: Arena) {}

  /** A new plan needs `bytes`: grow the region if it is smaller (its contents are not kept). */
  reserve(bytes: number): void {
    if (bytes > this.size) {
      // release first: when the region is the arena's last block, the new one extends it in place
      const old = this.size;
      this.arena.release(this.ptr);
      try {
        this.ptr = this.arena.alloc(bytes);
        this.size = bytes;
      } catch (e) {
        // the memory cannot grow that far: the plans alive keep a region (the old size fits where the old
        // block was), so a refused plan never leaves them pointing at address 0
        this.ptr = old > 0 ? this.arena.alloc(old) : 0;
        throw e;
      }
    }
    this.users++;
  }

  /** A plan is gone; the region is freed with the last one. */
  unreserve(): void {
    if (--this.users > 0) return;
    this.arena.release(this.ptr);
    this.ptr = 0;
    this.size = 0;
    this.users = 0;
  }
}

/**
 * The index in a Float32Array / Int32Array view of the 4-byte element at byte pointer `ptr`: the one place
 * that turns pointers into indices. Unsigned: a signed shift right by two is negative above 2 GiB, and typed-array
 * methods count a negative start from the END of memory (another model's weights). test/runtime/pointers.test.ts
 * finds any other form in src/.
 */
export function wordIndex(ptr: number): number {
  return ptr >>> 2;
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
