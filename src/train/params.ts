/**
 * Trainable parameters in the arena: while a model trains, each learnable Parameter has a raw copy (its
 * PyTorch layout) and a gradient block in wasm memory, so forward, backward and the optimizer are all
 * kernel calls. JavaScript stays the source of truth between trainings: `upload()` copies what changed in
 * JS (e.g. a loadStateDict) in, `download()` copies the trained values back out (which also re-packs the
 * inference weights, since it bumps the parameters' versions).
 */
import { wordIndex } from '../runtime/arena.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Parameter } from '../graph/parameter.js';
import type { ParamSlots } from '../graph/tape.js';
import type { Module } from '../nn/module.js';

export interface ParamSlot {
  readonly name: string;
  readonly param: Parameter;
  /** Byte pointers to the raw values and the gradient (same length). */
  readonly data: number;
  readonly grad: number;
  readonly size: number;
  /** Parameter.version last copied in or out. */
  synced: number;
}

export class ParamStore implements ParamSlots {
  readonly rt: Runtime;
  readonly slots: ParamSlot[] = [];
  private readonly bySlot = new Map<Parameter, ParamSlot>();
  /** Running statistics: updated in place in JS during training; versions bumped on download. */
  private readonly buffers: Parameter[] = [];

  constructor(rt: Runtime, model: Module) {
    this.rt = rt;
    for (const [, buffer] of model.namedBuffers()) this.buffers.push(buffer);
    for (const [name, param] of model.namedParameters()) {
      if (this.bySlot.has(param)) continue;
      const size = param.raw.length;
      const data = rt.arena.alloc(size * 4);
      const grad = rt.arena.alloc(size * 4);
      const slot: ParamSlot = { name, param, data, grad, size, synced: -1 };
      this.slots.push(slot);
      this.bySlot.set(param, slot);
    }
  }

  slot(p: Parameter): ParamSlot {
    const s = this.bySlot.get(p);
    if (!s) throw new Error('internal: parameter is not part of the trained model');
    return s;
  }

  /** Copy parameters changed in JavaScript since the last sync into the arena. */
  upload(): void {
    for (const s of this.slots) {
      if (s.synced === s.param.version) continue;
      this.rt.arena.write(s.data, s.param.raw);
      s.synced = s.param.version;
    }
  }

  /**
   * Copy the trained values back into the Parameters (bumping their versions). A Parameter changed in JS
   * since the last copy (a loadStateDict or set() after trainStep) keeps its new values: they are newer than
   * the arena's, and the next upload() takes them in.
   */
  download(): void {
    for (const b of this.buffers) b.set(b.raw);
    for (const s of this.slots) {
      if (s.synced !== s.param.version) continue;
      s.param.set(this.rt.arena.f32.subarray(wordIndex(s.data), wordIndex(s.data) + s.size));
      s.synced = s.param.version;
    }
  }

  dispose(): void {
    for (const s of this.slots) {
      this.rt.arena.release(s.data);
      this.rt.arena.release(s.grad);
    }
    this.slots.length = 0;
    this.bySlot.clear();
  }
}
