/**
 * The threaded kernels are the same module as the single-thread ones, reading an imported shared memory
 * instead of defining their own: `asc --enable threads --importMemory --sharedMemory` produced, for these
 * kernels, byte-identical types, functions, code and exports (checked 2026-12-03, asc 0.27.37), and the
 * kernels need no atomic instruction (the thread pool dispatches through Atomics in JavaScript,
 * src/runtime/threads.ts). So instead of a fourth and fifth inlined binary, the bundle rewrites the memory
 * definition of the variant it picked into the import `env.memory (shared, 1 .. 65536 pages)`: a few bytes,
 * no size cost. test/runtime/threads.test.ts checks that the result validates, imports a shared memory and
 * computes what the original computes.
 *
 * Only the memory section goes (the memory import takes its index 0, so the memory export is unchanged) and
 * an import section is added after the type section; the data segments stay active: every instantiation
 * rewrites them, so they must hold constants only (assembly/README.md), and every worker is instantiated
 * before any work runs.
 */
import { WasmzooError } from '../errors.js';

/** An unsigned LEB128 at b[i]: [value, index after it]. Throws past the end (trusted module bytes, checked). */
function readLeb(b: Uint8Array, i: number): [number, number] {
  let r = 0, shift = 0, x: number;
  do {
    if (i >= b.length) throw new RangeError('truncated LEB128');
    x = b[i++];
    r += (x & 0x7f) * 2 ** shift;
    shift += 7;
  } while (x & 0x80);
  return [r, i];
}

/** Unsigned LEB128 bytes of n. */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let x = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) x |= 0x80;
    out.push(x);
  } while (n > 0);
  return out;
}

const SECTION_TYPE = 1, SECTION_IMPORT = 2, SECTION_MEMORY = 5;
/** The largest 32-bit memory: a module declaring it accepts any shared memory up to 4 GiB. */
export const MAX_PAGES = 65536;

function name(s: string): number[] {
  return [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
}

interface Section { id: number; start: number; end: number; }

function sections(bytes: Uint8Array): Section[] {
  const out: Section[] = [];
  for (let i = 8; i < bytes.length;) {
    const [size, start] = readLeb(bytes, i + 1);
    out.push({ id: bytes[i], start: i, end: start + size });
    i = start + size;
  }
  return out;
}

/** `bytes` (a kernel variant defining one memory, importing nothing) rewritten to import a shared memory. */
export function toSharedMemoryModule(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const all = sections(bytes);
  if (all.some((s) => s.id === SECTION_IMPORT)) throw new WasmzooError('E_RUNTIME', 'shared-memory module: the kernels already import something');
  const mem = all.find((s) => s.id === SECTION_MEMORY);
  if (!mem) throw new WasmzooError('E_RUNTIME', 'shared-memory module: the kernels define no memory');
  const [, countAt] = readLeb(bytes, mem.start + 1);
  const [count, flagsAt] = readLeb(bytes, countAt);
  if (count !== 1 || bytes[flagsAt] & 2) throw new WasmzooError('E_RUNTIME', 'shared-memory module: expected one unshared memory');
  const [initialPages] = readLeb(bytes, flagsAt + 1);
  // one import: "env" "memory", kind memory (2), limits flags 3 (shared, with a maximum)
  const body = [1, ...name('env'), ...name('memory'), 2, 3, ...leb(initialPages), ...leb(MAX_PAGES)];
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  for (const s of all) {
    if (s.id !== SECTION_MEMORY) parts.push(bytes.subarray(s.start, s.end));
    if (s.id === SECTION_TYPE) parts.push(new Uint8Array([SECTION_IMPORT, ...leb(body.length), ...body]));
  }
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

/** Whether a compiled kernel module imports its memory (so a thread pool can share it). */
export function importsMemory(module: WebAssembly.Module): boolean {
  return WebAssembly.Module.imports(module).some((i) => i.kind === 'memory');
}
