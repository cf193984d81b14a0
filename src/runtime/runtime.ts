/**
 * Start-up: pick the best kernel variant the engine accepts, instantiate it once, and hand out the one
 * Runtime (kernels + arena) that layers and models use.
 *
 * Variant order: relaxed SIMD, then SIMD, then scalar. "Accepts" means WebAssembly validates and compiles
 * the embedded module: an engine without (relaxed) SIMD refuses it and we fall to the next one.
 * A caller may force a variant (`init({ backend: 'scalar' })`), e.g. for an engine whose SIMD is broken,
 * or pass a precompiled WebAssembly.Module (edge workers forbid compiling from bytes).
 */
import relaxedPatch from '../../build/wasmzoo.relaxed.patch';
import simdBase64 from '../../build/wasmzoo.simd.wasm';
import scalarBase64 from '../../build/wasmzoo.scalar.wasm';
import { applyWasmPatch, fromBase64 } from './wasm-patch.js';
import { WasmzooError } from '../errors.js';
import { Arena } from './arena.js';
import type { Kernels } from './kernels.js';

export type Backend = 'relaxed' | 'simd' | 'scalar';
export const BACKENDS: readonly Backend[] = ['relaxed', 'simd', 'scalar'];
const VARIANT_NAMES: Backend[] = ['scalar', 'simd', 'relaxed'];

export interface InitOptions {
  /** Force a variant instead of the best the engine accepts. */
  backend?: Backend;
  /** A precompiled kernel module (e.g. `import wasm from 'wasmzoo/wasm/wasmzoo.simd.wasm'` in a worker). */
  module?: WebAssembly.Module;
}

export class Runtime {
  readonly backend: Backend;
  readonly k: Kernels;
  readonly arena: Arena;
  constructor(backend: Backend, instance: WebAssembly.Instance) {
    this.backend = backend;
    this.k = instance.exports as unknown as Kernels;
    this.arena = new Arena(this.k.memory, this.k.heap_base());
  }
}

let current: Runtime | undefined;
/** The last queued init() request while it runs (a plain init() must wait for it). */
let pending: Promise<Runtime> | undefined;

/** The embedded bytes of a variant (relaxed is rebuilt from SIMD plus a patch, see wasm-patch.ts). */
export function variantBytes(backend: Backend): Uint8Array<ArrayBuffer> {
  if (backend === 'scalar') return fromBase64(scalarBase64);
  const simd = fromBase64(simdBase64);
  return backend === 'simd' ? simd : applyWasmPatch(simd, fromBase64(relaxedPatch));
}

async function compile(backend: Backend): Promise<WebAssembly.Module> {
  const bytes = variantBytes(backend);
  // validate first: an engine without (relaxed) SIMD says no quickly and without an exception trace
  if (!WebAssembly.validate(bytes)) throw new WasmzooError('E_RUNTIME', `this engine does not accept the ${backend} kernels`);
  return WebAssembly.compile(bytes);
}

/** Instantiate a kernel module (compiled here or given) and make it the current runtime. */
export async function instantiate(opts: InitOptions = {}): Promise<Runtime> {
  let module: WebAssembly.Module | undefined = opts.module;
  let chosen: Backend | undefined;
  if (module === undefined) {
    const order = opts.backend ? [opts.backend] : BACKENDS;
    const errors: string[] = [];
    for (const b of order) {
      try {
        module = await compile(b);
        chosen = b;
        break;
      } catch (e) {
        errors.push(`${b}: ${(e as Error).message}`);
      }
    }
    if (module === undefined) {
      const hint = errors.some((e) => /disallowed|code generation/i.test(e))
        ? ": this engine forbids compiling wasm from bytes (edge workers): import a precompiled module, e.g. `import mod from 'wasmzoo/wasm/wasmzoo.simd.wasm'`, and call `init({ module: mod })`"
        : '';
      throw new WasmzooError('E_RUNTIME', `no kernel variant could be compiled by this engine (${errors.join('; ')})${hint}`);
    }
  } else if (!(module instanceof WebAssembly.Module)) {
    throw new WasmzooError('E_ARGUMENT', `init: options.module must be a WebAssembly.Module, got ${typeof module}`);
  }
  const instance = await WebAssembly.instantiate(module, {});
  const actual = VARIANT_NAMES[(instance.exports as unknown as Kernels).variant()];
  if (chosen === undefined) chosen = actual;
  if (opts.backend && actual !== opts.backend) {
    throw new WasmzooError('E_ARGUMENT', `init: backend '${opts.backend}' requested but the given module is the '${actual}' variant`);
  }
  return new Runtime(chosen, instance);
}

/** Every init() call queues here, so requests are served one at a time in call order. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Initialise the runtime (idempotent). Calls are serialised in call order and the later request wins: a call
 * with `backend` or `module` instantiates that variant and makes it current for models created afterwards
 * (models already built keep the runtime they were built on); a plain call resolves to the current runtime
 * once the calls before it are done, creating the best variant if there is none. So
 * `Promise.all([init(), init({ backend: 'scalar' })])` ends with `backend() === 'scalar'`, whichever compile
 * finishes first. A failed call leaves the current runtime as it was and does not hold up later calls.
 */
export function init(opts?: InitOptions): Promise<Runtime> {
  const forced = !!(opts && (opts.backend !== undefined || opts.module !== undefined));
  if (forced && opts!.backend !== undefined && !BACKENDS.includes(opts!.backend)) {
    return Promise.reject(new WasmzooError('E_ARGUMENT', `init: backend must be one of ${BACKENDS.map((b) => `'${b}'`).join(', ')}, got ${JSON.stringify(opts!.backend)}`));
  }
  if (!forced && current && !pending) return Promise.resolve(current);
  const request = queue.then(async () => {
    if (!forced && current) return current;
    return (current = await instantiate(forced ? opts : {}));
  });
  const settled = request.then(() => undefined, () => undefined);
  queue = settled;
  pending = request;
  void settled.then(() => {
    if (pending === request) pending = undefined;
  });
  return request;
}

/** The current runtime; throws if `await wasmzoo.init()` (or a model builder) has not run yet. */
export function runtime(): Runtime {
  if (!current) {
    throw new WasmzooError('E_RUNTIME', 'wasmzoo is not initialised: call `await wasmzoo.init()` (model builders do it for you) before running layers');
  }
  return current;
}

/** Which kernel variant runs: 'relaxed', 'simd' or 'scalar' (undefined before init). */
export function backend(): Backend | undefined {
  return current?.backend;
}

export interface MemoryStats {
  backend: Backend;
  /** Size of the wasm memory (it never shrinks). */
  memoryBytes: number;
  /** Highest address the arena has handed out (peak use). */
  arenaHighWater: number;
  /** Bytes currently allocated (weights, plans, training state). */
  arenaUsed: number;
  /**
   * Of arenaUsed, the activation region every plan runs in: as large as the largest plan alive (planned
   * input shapes stay cached, but their activations share this one block).
   */
  activationBytes: number;
}

/** Memory use of the current runtime (undefined before init): for apps watching their footprint and for benchmarks. */
export function memoryStats(): MemoryStats | undefined {
  if (!current) return undefined;
  const a = current.arena;
  return { backend: current.backend, memoryBytes: a.memory.buffer.byteLength, arenaHighWater: a.highWater, arenaUsed: a.used, activationBytes: a.activations.size };
}
