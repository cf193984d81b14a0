/**
 * The thread pool: T-1 workers, each with its own instance of the kernel module over the one shared memory,
 * and the calling thread as thread 0. A kernel call that is worth splitting (src/runtime/parallel.ts) becomes
 * one list of sub-calls per thread; the caller writes the workers' lists into a control block, bumps a
 * generation counter and does its own list while the workers do theirs, then waits for the count of
 * workers still busy to reach 0.
 *
 * Dispatch is through Atomics on a SharedArrayBuffer, not postMessage (tens of microseconds per message,
 * ../shared/TOOLCHAIN.md): an idle worker spins on the generation for about SPIN_US, then sleeps in
 * Atomics.wait until notified, so back-to-back kernels (the layers of one forward pass, RNN steps) find it
 * awake and an idle pool costs no CPU. The caller spins while the workers finish and, where the engine
 * allows it, then sleeps in Atomics.wait; a browser's main thread may not wait, so there it only spins
 * (it has done its own share first, so the spin is the difference between the shares).
 *
 * Control block (Int32 words, then Float64 slots):
 *   [0] generation  [1] workers still busy  [2] error (a worker's kernel threw)  [3] stop
 *   slot w (one per worker, SLOT doubles, from byte SLOT_BASE): count, then per sub-call: kernel index,
 *   argument count, arguments. Kernel indexes refer to POOL_KERNELS.
 *
 * Workers are plain scripts built from WORKER_SOURCE (no file to fetch: `eval` in node:worker_threads in
 * Node and Deno, a Blob URL module Worker in browsers). Those workers are unref'd: a process exits by itself
 * when its work is done. `terminate()` ends them (wasmzoo.release(), or a new runtime replacing this one); a pool that has
 * ended runs every call on the calling thread, so models built on it keep working, with the same bits.
 */
import { WasmzooError } from '../errors.js';

/** Kernels a worker can run, by index (the control block carries the index). */
export const POOL_KERNELS = [
  'gemm_packed', 'conv2d_nhwc', 'conv2d_winograd', 'maxpool2d_nhwc', 'avgpool2d_nhwc',
  'relu', 'sigmoid', 'tanh', 'activation', 'add', 'mul', 'scale_shift', 'act_backward',
  'sgd_step', 'adam_step', 'scale_inplace', 'lstm_step_units', 'gru_step_units', 'rnn_directions',
  'conv2d_backward_data', 'conv2d_backward_weight_part', 'maxpool2d_backward_nhwc', 'avgpool2d_backward_nhwc',
] as const;
export type PoolKernel = (typeof POOL_KERNELS)[number];
const KERNEL_INDEX = new Map<string, number>(POOL_KERNELS.map((k, i) => [k, i]));

/** One sub-call: a kernel and its arguments. */
export interface SubCall { fn: PoolKernel; args: number[]; }

const GEN = 0, BUSY = 1, ERROR = 2, STOP = 3;
const SLOT_BASE = 64; // bytes
const SLOT = 1024; // doubles per worker: up to ~40 sub-calls of 24 arguments
/** How long an idle thread spins before it sleeps (microseconds). */
const SPIN_US = 100;
/** How long start-up may take before the pool gives up and the runtime runs on one thread. */
const START_TIMEOUT_MS = 15000;

/**
 * The worker. Plain ES2020, no imports and no closures over this module (it is shipped as text); the same
 * text runs as a web/Deno module worker (`self`) and as a Node worker_threads `eval` script.
 */
const WORKER_SOURCE = `
const SPIN_US = ${SPIN_US}, SLOT_BASE = ${SLOT_BASE}, SLOT = ${SLOT};
const wt = typeof process !== 'undefined' && typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule('node:worker_threads') : null;
const nodePort = wt ? wt.parentPort : null;
const post = (m) => (nodePort ? nodePort.postMessage(m) : self.postMessage(m));
const onMessage = async (msg) => {
  try {
    const { module, memory, control, index, kernels } = msg;
    const inst = await WebAssembly.instantiate(module, { env: { memory } });
    const fns = kernels.map((k) => inst.exports[k]);
    const ctl = new Int32Array(control);
    const slot = new Float64Array(control, SLOT_BASE + (index - 1) * SLOT * 8, SLOT);
    post({ ready: true });
    setTimeout(() => loop(ctl, slot, fns), 0);
  } catch (e) {
    post({ error: String(e && e.message || e) });
  }
};
function loop(ctl, slot, fns) {
  // generation 0 is the pool's start: work posted before this loop runs (right after 'ready') is not missed
  let seen = 0;
  for (;;) {
    let g = Atomics.load(ctl, 0);
    if (g === seen) {
      const until = performance.now() + SPIN_US / 1000;
      for (let i = 0; g === seen; i++) {
        if ((i & 255) === 255 && performance.now() > until) {
          Atomics.wait(ctl, 0, seen);
        }
        g = Atomics.load(ctl, 0);
      }
    }
    seen = g;
    if (Atomics.load(ctl, 3) !== 0) return;
    try {
      const n = slot[0];
      let p = 1;
      for (let j = 0; j < n; j++) {
        const f = fns[slot[p]], argc = slot[p + 1];
        f.apply(null, slot.subarray(p + 2, p + 2 + argc));
        p += 2 + argc;
      }
    } catch (e) {
      Atomics.store(ctl, 2, 1);
    }
    if (Atomics.sub(ctl, 1, 1) === 1) Atomics.notify(ctl, 1);
  }
}
if (nodePort) nodePort.on('message', onMessage);
else self.onmessage = (e) => onMessage(e.data);
`;

interface WorkerHandle {
  terminate(): void;
  /** Let the process exit while this worker lives (Node, Deno); called once it is ready. */
  unref(): void;
}

/** Why threads cannot run here (undefined = they can). */
export function threadsUnavailable(): string | undefined {
  const g = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean; Worker?: unknown; process?: { getBuiltinModule?: unknown } };
  if (typeof g.SharedArrayBuffer === 'undefined' || g.crossOriginIsolated === false) {
    return 'SharedArrayBuffer is not available: the page is not cross-origin isolated. Serve it with the headers '
      + '`Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`';
  }
  if (typeof g.Worker !== 'function' && typeof g.process?.getBuiltinModule !== 'function') {
    return 'this engine cannot start workers (edge workers run one thread)';
  }
  return undefined;
}

/** Whether this thread may block in Atomics.wait (a browser's main thread may not). */
function canWait(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

type NodeWorker = { on(ev: string, f: (x: unknown) => void): void; postMessage(m: unknown): void; unref(): void; terminate(): unknown };

/**
 * One worker running WORKER_SOURCE: node:worker_threads where the engine has it (Node, and Deno, whose web
 * Workers cannot be unref'd and would keep the process alive), else a module Worker from a Blob URL
 * (browsers).
 */
function startWorker(onMessage: (m: { ready?: boolean; error?: string }) => void, onError: (e: string) => void): { handle: WorkerHandle; post(m: unknown): void } {
  const g = globalThis as { Worker?: new (url: string, o: { type: string }) => Worker; process?: { getBuiltinModule?: (m: string) => unknown } };
  const wt = g.process?.getBuiltinModule?.('node:worker_threads') as { Worker: new (src: string, o: { eval: boolean }) => NodeWorker } | undefined;
  if (wt) {
    const w = new wt.Worker(WORKER_SOURCE, { eval: true });
    w.on('message', (m) => onMessage(m as { ready?: boolean; error?: string }));
    w.on('error', (e) => onError((e as Error).message));
    return { handle: { terminate: () => void w.terminate(), unref: () => w.unref() }, post: (m) => w.postMessage(m) };
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const w = new g.Worker!(url, { type: 'module' });
  w.onmessage = (e: MessageEvent) => onMessage(e.data);
  w.onerror = (e: ErrorEvent) => {
    e.preventDefault?.();
    onError(e.message || 'worker failed to start');
  };
  return {
    handle: { terminate: () => { w.terminate(); URL.revokeObjectURL(url); }, unref: () => undefined },
    post: (m) => w.postMessage(m),
  };
}

export class ThreadPool {
  /** Threads that run kernels, the calling one included. 1 once terminated. */
  size: number;
  private readonly workers: WorkerHandle[];
  private readonly ctl: Int32Array;
  private readonly slots: Float64Array[];
  private readonly exports: Record<string, (...a: number[]) => unknown>;
  private readonly wait: boolean;

  private constructor(size: number, workers: WorkerHandle[], control: SharedArrayBuffer, exports: Record<string, (...a: number[]) => unknown>) {
    this.size = size;
    this.workers = workers;
    this.ctl = new Int32Array(control, 0, 16);
    this.slots = workers.map((_, w) => new Float64Array(control, SLOT_BASE + w * SLOT * 8, SLOT));
    this.exports = exports;
    this.wait = canWait();
  }

  /**
   * Start `threads - 1` workers over `memory` running `module` (which imports that memory); `exports` is the
   * calling thread's instance. Rejects (and ends what started) if a worker fails or start-up times out.
   */
  static async start(threads: number, module: WebAssembly.Module, memory: WebAssembly.Memory,
    exports: Record<string, (...a: number[]) => unknown>): Promise<ThreadPool> {
    const control = new SharedArrayBuffer(SLOT_BASE + (threads - 1) * SLOT * 8);
    const handles: WorkerHandle[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        let ready = 0;
        const timer = setTimeout(() => reject(new Error(`workers did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
        const fail = (e: string) => {
          clearTimeout(timer);
          reject(new Error(e));
        };
        for (let i = 1; i < threads; i++) {
          const w = startWorker((m) => {
            if (m.error) fail(m.error);
            else if (m.ready && ++ready === threads - 1) {
              clearTimeout(timer);
              resolve();
            }
          }, fail);
          handles.push(w.handle);
          w.post({ module, memory, control, index: i, kernels: POOL_KERNELS });
        }
      });
      for (const h of handles) h.unref();
    } catch (e) {
      for (const h of handles) h.terminate();
      throw e;
    }
    return new ThreadPool(threads, handles, control, exports);
  }

  /** Run parts[t] on thread t (parts[0] here), all at once; returns when every part is done. */
  run(parts: SubCall[][]): void {
    const ex = this.exports;
    if (this.size === 1 || parts.length <= 1) {
      for (const list of parts) for (const c of list) ex[c.fn](...c.args);
      return;
    }
    const ctl = this.ctl;
    const workers = this.size - 1;
    for (let w = 0; w < workers; w++) {
      const slot = this.slots[w];
      const list = parts[w + 1] ?? [];
      let p = 1;
      for (const c of list) {
        if (p + 2 + c.args.length > SLOT) throw new WasmzooError('E_RUNTIME', `thread pool: too many sub-calls for one thread (${list.length})`);
        slot[p] = KERNEL_INDEX.get(c.fn)!;
        slot[p + 1] = c.args.length;
        slot.set(c.args, p + 2);
        p += 2 + c.args.length;
      }
      slot[0] = list.length;
    }
    Atomics.store(ctl, BUSY, workers);
    Atomics.add(ctl, GEN, 1);
    Atomics.notify(ctl, GEN);
    for (const c of parts[0]) ex[c.fn](...c.args);
    let busy = Atomics.load(ctl, BUSY);
    if (busy !== 0) {
      const until = performance.now() + SPIN_US / 1000;
      for (let i = 0; busy !== 0; i++) {
        if (this.wait && (i & 255) === 255 && performance.now() > until) Atomics.wait(ctl, BUSY, busy, 1000);
        busy = Atomics.load(ctl, BUSY);
      }
    }
    if (Atomics.load(ctl, ERROR) !== 0) {
      Atomics.store(ctl, ERROR, 0);
      throw new WasmzooError('E_RUNTIME', 'a kernel failed in a worker thread');
    }
  }

  /** End the workers; later calls run on the calling thread. */
  terminate(): void {
    if (this.size === 1) return;
    this.size = 1;
    Atomics.store(this.ctl, STOP, 1);
    Atomics.add(this.ctl, GEN, 1);
    Atomics.notify(this.ctl, GEN);
    for (const w of this.workers) w.terminate();
  }
}
