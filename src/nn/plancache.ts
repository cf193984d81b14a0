/**
 * Plans keyed by input shapes for modules that plan outside Module.forward (recurrent layers, seq2seq,
 * the VAE's encode/decode/sample): built on first use, all dropped when any of the owner's parameters
 * changes (their packed weights are baked into the plans), released on dispose.
 */
import { parameterEpoch, type Module } from './module.js';

export class PlanCache<T> {
  private readonly plans = new Map<string, T>();
  private version = -1;
  private epoch = -1;

  constructor(private readonly owner: Module, private readonly release: (plan: T) => void) {}

  /** The plan for `key`, made by `make()` on first use or after the owner's parameters changed. */
  get(key: string, make: () => T): T {
    // the owner's versions only need summing when some parameter somewhere has changed (a streaming step
    // calls this every few microseconds)
    const e = parameterEpoch();
    if (e !== this.epoch) {
      this.epoch = e;
      let v = 0;
      for (const [, p] of this.owner.namedParameters()) v += p.version;
      if (v !== this.version) {
        this.clear();
        this.version = v;
      }
    }
    let p = this.plans.get(key);
    if (p === undefined) this.plans.set(key, (p = make()));
    return p;
  }

  clear(): void {
    for (const p of this.plans.values()) this.release(p);
    this.plans.clear();
  }
}
