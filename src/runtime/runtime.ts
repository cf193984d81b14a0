/**
 * Start-up: pick the best kernel variant the engine accepts, instantiate it once, and hand out the one
 * Runtime (kernels + arena) that layers and models use.
 *
 * Variant order: relaxed SIMD, then SIMD, then scalar. "Accepts" means WebAssembly validates and compiles
 * the embedded module: an engine without (relaxed) SIMD refuses it and we fall to the next one.
 * A caller may force a variant (`init({ backend: 'scalar' })`), e.g. for an engine whose SIMD is broken,
 * or pass a precompiled WebAssembly.Module (edge workers forbid compiling from bytes).
 *
 * Threads (`init({ threads })`, src/runtime/threads.ts): the chosen variant rewritten to import a shared
 * memory (shared-module.ts), one instance here and one per worker, and the kernels split across them
 * (parallel.ts). Where threads cannot run, the runtime runs on one thread and `threadsNote` says why.
 */
// all three kernel variants in one zlib-compressed container (embedded-kernels.ts, tools/build-wasm.mjs)
import kernelsBase64 from '../../build/wasmzoo.kernels.zlib';
import { inflate } from './inflate.js';
import { fromBase64, variantFromContainer } from './embedded-kernels.js';
import { WasmzooError } from '../errors.js';
import { checkOptions, optionKeys } from '../options.js';
import { Arena } from './arena.js';
import type { Kernels } from './kernels.js';
import { importsMemory, MAX_PAGES, toSharedMemoryModule } from './shared-module.js';
import { ThreadPool, threadsUnavailable } from './threads.js';
import { parallelKernels } from './parallel.js';

export type Backend = 'relaxed' | 'simd' | 'scalar';
export const BACKENDS: readonly Backend[] = ['relaxed', 'simd', 'scalar'];
const VARIANT_NAMES: Backend[] = ['scalar', 'simd', 'relaxed'];

export interface InitOptions {
  /** Force a variant instead of the best the engine accepts. */
  backend?: Backend;
  /** A precompiled kernel module (e.g. `import wasm from 'wasmzoo/wasm/wasmzoo.simd.wasm'` in a worker). */
  module?: WebAssembly.Module;
  /**
   * Threads that run kernels, this one included: `'auto'` (the default) takes the cores
   * (`navigator.hardwareConcurrency` or `os.availableParallelism()`) up to AUTO_THREADS_MAX where threads are
   * possible, else 1, quietly; a number asks for exactly that many (1 .. threadsLimit()) and says once, on
   * the console, why it runs on one thread where threads are impossible. Results are the same bits for any
   * count.
   */
  threads?: number | 'auto';
  /**
   * Bytes the shared memory of a threaded runtime may grow to (rounded up to 64 KiB): it is reserved up
   * front, so it is fixed at init. Default 1 GiB in browsers (mobile Safari refuses large reservations),
   * 4 GiB elsewhere. A model that does not fit fails with an error that names this option.
   */
  maxMemory?: number;
}

const INIT_OPTION_KEYS = optionKeys<InitOptions>({ backend: 1, module: 1, threads: 1, maxMemory: 1 });

/**
 * `'auto'` threads stop at 4: the pool gives every thread an equal share, so the slowest core sets the pace
 * (phones pair big and little cores), and the batch-1 layers of the zoo gain little past 4 parts; both
 * peers default to at most 4 as well (onnxruntime-web min(4, cores/2)).
 */
export const AUTO_THREADS_MAX = 4;

/** Cores this engine reports (1 if it does not say). */
export function cores(): number {
  const g = globalThis as { navigator?: { hardwareConcurrency?: number }; process?: { getBuiltinModule?: (m: string) => unknown } };
  const n = g.navigator?.hardwareConcurrency;
  if (typeof n === 'number' && n > 0) return n;
  const os = g.process?.getBuiltinModule?.('node:os') as { availableParallelism?: () => number } | undefined;
  return Math.max(1, os?.availableParallelism?.() ?? 1);
}

/** The most threads `init({ threads })` accepts here: 4 per core (at least 8), at most 64. */
export function threadsLimit(): number {
  return Math.min(64, Math.max(8, 4 * cores()));
}

const GIB = 2 ** 30;
function defaultMaxMemory(): number {
  const g = globalThis as { document?: unknown; WorkerGlobalScope?: unknown; process?: unknown; Deno?: unknown };
  const browser = (g.document !== undefined || g.WorkerGlobalScope !== undefined) && g.process === undefined && g.Deno === undefined;
  return browser ? GIB : 4 * GIB;
}

export class Runtime {
  readonly backend: Backend;
  readonly k: Kernels;
  readonly arena: Arena;
  /** The kernels as exported (one thread), for callers that split work themselves. */
  readonly exports: Kernels;
  /** Why this runtime runs on one thread though more were asked for (undefined otherwise). */
  readonly threadsNote?: string;
  /** What init() was asked for (a later init with the same request reuses this runtime). */
  readonly request: string;
  private readonly pool?: ThreadPool;
  constructor(backend: Backend, instance: WebAssembly.Instance, pool?: ThreadPool, threadsNote?: string, request = '', maxBytes = 0) {
    this.backend = backend;
    this.exports = instance.exports as unknown as Kernels;
    this.arena = new Arena(this.exports.memory, this.exports.heap_base());
    this.pool = pool;
    this.k = pool ? parallelKernels(this.exports, pool, this.arena) : this.exports;
    this.threadsNote = threadsNote;
    this.request = request;
    if (pool) {
      this.arena.growHint = `: the threaded runtime's shared memory stops at ${Math.round(maxBytes / 2 ** 20)} MiB; `
        + 'pass a larger `maxMemory` to wasmzoo.init({ threads, maxMemory }), or `threads: 1` (no fixed maximum)';
    }
  }
  /** Threads that run kernels (1 when no pool runs, or after release()). */
  get threads(): number {
    return this.pool?.size ?? 1;
  }
  /** End the worker threads; this runtime's models keep running, on the calling thread. */
  endThreads(): void {
    this.pool?.terminate();
  }
}

let current: Runtime | undefined;
/** The last queued init() request while it runs (a plain init() must wait for it). */
let pending: Promise<Runtime> | undefined;

/** The embedded kernel container, inflated (see embedded-kernels.ts). */
function embeddedContainer(): Promise<Uint8Array<ArrayBuffer>> {
  return inflate(fromBase64(kernelsBase64));
}

/** The embedded bytes of a variant, from `container` when the caller has it inflated already. */
export async function variantBytes(backend: Backend, container?: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return variantFromContainer(container ?? await embeddedContainer(), backend);
}

// Two tiny modules, (v128, v128, v128) -> v128, one with f32x4.add and one with f32x4.relaxed_madd:
// WebAssembly.validate on them says in 0.1 ms whether the engine has SIMD and relaxed SIMD, where compiling
// the 124 KB variant to find out costs ~1.3 ms plus rebuilding it from its delta (~1.5 ms) at start-up.
const PROBE_HEAD = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 8, 1, 0x60, 3, 0x7b, 0x7b, 0x7b, 1, 0x7b, 3, 2, 1, 0];
const PROBES: Partial<Record<Backend, number[]>> = {
  simd: [10, 11, 1, 9, 0, 0x20, 0, 0x20, 1, 0xfd, 0xe4, 1, 0x0b],
  relaxed: [10, 13, 1, 11, 0, 0x20, 0, 0x20, 1, 0x20, 2, 0xfd, 0x85, 2, 0x0b],
};

/** The probe module of a variant (undefined for scalar, which every engine with wasm runs). */
export function probeModule(backend: Backend): Uint8Array<ArrayBuffer> | undefined {
  const body = PROBES[backend];
  return body && new Uint8Array([...PROBE_HEAD, ...body]);
}

/** True when the engine surely rejects a variant (its probe does not validate); unsure means try it. */
export function engineLacks(backend: Backend): boolean {
  const probe = probeModule(backend);
  if (!probe) return false;
  try {
    return !WebAssembly.validate(probe);
  } catch {
    return false;
  }
}

async function compile(backend: Backend, container: () => Promise<Uint8Array>): Promise<WebAssembly.Module> {
  const bytes = await variantBytes(backend, await container());
  // no WebAssembly.validate first: it decodes the whole module again (3 ms of start-up); an engine without
  // (relaxed) SIMD rejects the compile, and init() moves on to the next variant
  try {
    return await WebAssembly.compile(bytes);
  } catch (e) {
    throw new WasmzooError('E_RUNTIME', `this engine does not accept the ${backend} kernels (${(e as Error).message})`);
  }
}

/** What identifies an init request: a later init with the same key is served by the same runtime. */
function requestKey(o: InitOptions): string {
  return JSON.stringify([o.backend ?? null, o.threads ?? 'auto', o.maxMemory ?? null]);
}

/** The thread count an init request resolves to before trying (and whether it was asked for explicitly). */
function requestedThreads(threads: InitOptions['threads']): { n: number; explicit: boolean } {
  if (threads === undefined || threads === 'auto') return { n: threadsUnavailable() ? 1 : Math.min(cores(), AUTO_THREADS_MAX), explicit: false };
  return { n: threads, explicit: true };
}

/** Check the thread options of init (E_ARGUMENT with what was wrong). */
function checkThreadOptions(opts: InitOptions): WasmzooError | undefined {
  const t = opts.threads;
  if (t !== undefined && t !== 'auto') {
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 1) {
      return new WasmzooError('E_ARGUMENT', `init: threads must be 'auto' or an integer >= 1, got ${typeof t === 'number' ? t : JSON.stringify(t)}`);
    }
    // threadsLimit() is at least 8: asking the OS for its cores (loading node:os) costs start-up
    if (t > 8 && t > threadsLimit()) {
      return new WasmzooError('E_ARGUMENT', `init: threads ${t} is more than this engine can start (${cores()} cores; at most ${threadsLimit()})`);
    }
  }
  const m = opts.maxMemory;
  if (m !== undefined && (typeof m !== 'number' || !Number.isFinite(m) || m < 16 * 2 ** 20 || m > 4 * GIB)) {
    return new WasmzooError('E_ARGUMENT', `init: maxMemory must be a byte count from 16 MiB to 4 GiB, got ${typeof m === 'number' ? m : JSON.stringify(m)}`);
  }
  return undefined;
}

const warned = new Set<string>();
/** Say once per reason why an explicit thread request runs on one thread. */
function warnOnce(note: string): void {
  if (warned.has(note)) return;
  warned.add(note);
  console.warn(`wasmzoo: running on one thread: ${note}`);
}

/** Instantiate a kernel module (compiled here or given) and make it the current runtime. */
export async function instantiate(opts: InitOptions = {}): Promise<Runtime> {
  const bad = checkThreadOptions(opts);
  if (bad) throw bad;
  let module: WebAssembly.Module | undefined = opts.module;
  let chosen: Backend | undefined;
  // inflated once per init, for every variant tried and the shared-memory build
  let inflated: Promise<Uint8Array<ArrayBuffer>> | undefined;
  const container = (): Promise<Uint8Array<ArrayBuffer>> => (inflated ??= embeddedContainer());
  if (module === undefined) {
    // a variant the engine surely lacks is not tried unless asked for (then its compile error says why)
    const order = opts.backend ? [opts.backend] : BACKENDS.filter((b) => !engineLacks(b));
    const errors: string[] = [];
    for (const b of order) {
      try {
        module = await compile(b, container);
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
  const request = requestKey(opts);
  const { n, explicit } = requestedThreads(opts.threads);
  let note: string | undefined;
  if (n > 1) {
    note = threadsUnavailable();
    if (!note && opts.module !== undefined && !importsMemory(opts.module)) {
      note = 'a precompiled module given to init({ module }) has its own memory; threads need the module compiled here (leave out `module`)';
    }
    if (!note) {
      try {
        const shared = opts.module ?? await WebAssembly.compile(toSharedMemoryModule(await variantBytes(chosen!, await container())));
        const maxPages = Math.min(MAX_PAGES, Math.ceil((opts.maxMemory ?? defaultMaxMemory()) / 65536));
        const memory = new WebAssembly.Memory({ initial: 1, maximum: maxPages, shared: true });
        const instance = await WebAssembly.instantiate(shared, { env: { memory } });
        const actual = VARIANT_NAMES[(instance.exports as unknown as Kernels).variant()];
        const pool = await ThreadPool.start(n, shared, memory, instance.exports as unknown as Record<string, (...a: number[]) => unknown>);
        return new Runtime(chosen ?? actual, instance, pool, undefined, request, maxPages * 65536);
      } catch (e) {
        note = `the worker threads did not start (${(e as Error).message})`;
      }
    }
    if (explicit) warnOnce(note);
  }
  const instance = await WebAssembly.instantiate(module, {});
  const actual = VARIANT_NAMES[(instance.exports as unknown as Kernels).variant()];
  if (chosen === undefined) chosen = actual;
  if (opts.backend && actual !== opts.backend) {
    throw new WasmzooError('E_ARGUMENT', `init: backend '${opts.backend}' requested but the given module is the '${actual}' variant`);
  }
  return new Runtime(chosen, instance, undefined, note, request);
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
  let o: InitOptions;
  try {
    o = checkOptions('init', opts, INIT_OPTION_KEYS);
  } catch (e) {
    return Promise.reject(e);
  }
  const asked = o.backend !== undefined || o.module !== undefined || o.threads !== undefined || o.maxMemory !== undefined;
  if (o.backend !== undefined && !BACKENDS.includes(o.backend)) {
    return Promise.reject(new WasmzooError('E_ARGUMENT', `init: backend must be one of ${BACKENDS.map((b) => `'${b}'`).join(', ')}, got ${JSON.stringify(o.backend)}`));
  }
  const bad = checkThreadOptions(o);
  if (bad) return Promise.reject(bad);
  // the same request as the current runtime's (a module is always new) is served by it
  const request = requestKey(o);
  const forced = asked && (o.module !== undefined || current?.request !== request);
  if (!forced && current && !pending) return Promise.resolve(current);
  const request_ = queue.then(async () => {
    if (!forced && current) return current;
    const next = await instantiate(asked ? o : {});
    // the runtime replaced ends its workers: its models keep working on one thread
    current?.endThreads();
    return (current = next);
  });
  const settled = request_.then(() => undefined, () => undefined);
  queue = settled;
  pending = request_;
  void settled.then(() => {
    if (pending === request_) pending = undefined;
  });
  return request_;
}

/**
 * Hand back what the current runtime holds: end its worker threads and forget it, so the next init() (or
 * model builder) starts a fresh runtime with a fresh memory. Models built before keep working on their
 * runtime, on one thread, until they are disposed and collected.
 */
export function release(): void {
  current?.endThreads();
  current = undefined;
}

/** Threads the current runtime runs kernels on (1 before init). */
export function threads(): number {
  return current?.threads ?? 1;
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
  /** Threads that run kernels. */
  threads: number;
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
  return { backend: current.backend, threads: current.threads, memoryBytes: a.memory.buffer.byteLength, arenaHighWater: a.highWater, arenaUsed: a.used, activationBytes: a.activations.size };
}
