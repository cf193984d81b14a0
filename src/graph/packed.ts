/**
 * A block of packed weights in the arena, rebuilt only when the parameters it was packed from change.
 * `key` captures those versions (and any fold, e.g. a BatchNorm folded into a conv).
 */
import type { Runtime } from '../runtime/runtime.js';

export class PackedBlock {
  private ptr = 0;
  private key = '';
  private rt: Runtime | undefined;

  /** The block for `key`, (re)packed by `fill(ptr)` into `bytes` bytes when the key changed. */
  ensure(rt: Runtime, key: string, bytes: number, fill: (ptr: number) => void): number {
    if (this.ptr !== 0 && this.key === key && this.rt === rt) return this.ptr;
    this.release();
    this.rt = rt;
    this.ptr = rt.arena.alloc(bytes);
    this.key = key;
    fill(this.ptr);
    return this.ptr;
  }

  release(): void {
    if (this.ptr !== 0 && this.rt) this.rt.arena.release(this.ptr);
    this.ptr = 0;
    this.key = '';
  }
}

/** Copy `data` into a temporary arena block for the duration of `use(ptr)`. */
export function withStaged<T>(rt: Runtime, data: Float32Array, use: (ptr: number) => T): T {
  const p = rt.arena.alloc(data.length * 4);
  try {
    rt.arena.write(p, data);
    return use(p);
  } finally {
    rt.arena.release(p);
  }
}
