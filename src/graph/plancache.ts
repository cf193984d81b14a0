/**
 * The one plan cache: plans keyed by input shapes (and whatever else a caller puts in the key), built on
 * first use, all dropped when any of the owner's parameters changes (their packed weights are baked into
 * the plans), released when the owner is disposed. Module.forward, the recurrent layers, Seq2Seq and the
 * VAE's encode/decode/sample all plan through it, so they invalidate the same way.
 */
import { parameterEpoch, type Parameter } from './parameter.js';

/** What a cache needs of its owner (a Module). */
export interface PlanOwner {
  /** Every parameter and buffer (buffers count: batch norm folds its running statistics into packed weights). */
  namedState(): [string, Parameter][];
  /** Throws E_DISPOSED once the owner is disposed. */
  assertAlive(): void;
  /** Remember a cache to clear on dispose. */
  adoptCache(cache: { clear(): void }): void;
}

export class PlanCache<T> {
  private readonly plans = new Map<string, T>();
  private version = -1;
  private epoch = -1;

  constructor(private readonly owner: PlanOwner, private readonly release: (plan: T) => void) {
    owner.adoptCache(this);
  }

  /** The plan for `key`, made by `make()` on first use or after the owner's parameters changed. */
  get(key: string, make: () => T): T {
    // the owner's versions only need summing when some parameter somewhere has changed (a streaming step
    // calls this every few microseconds)
    const e = parameterEpoch();
    if (e !== this.epoch) {
      this.epoch = e;
      let v = 0;
      for (const [, p] of this.owner.namedState()) v += p.version;
      if (v !== this.version) {
        this.clear();
        this.version = v;
      }
    }
    let p = this.plans.get(key);
    if (p === undefined) {
      this.owner.assertAlive();
      this.plans.set(key, (p = make()));
    }
    return p;
  }

  clear(): void {
    for (const p of this.plans.values()) this.release(p);
    this.plans.clear();
  }
}
