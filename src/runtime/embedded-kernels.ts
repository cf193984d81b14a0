/**
 * The kernels the bundle carries: one base64 string of a zlib-compressed container holding the SIMD module
 * whole and the relaxed and scalar modules as deltas against it (written by tools/build-wasm.mjs with
 * tools/wasm-delta.mjs, where the format is described). The three variants share most of their bytes, but
 * too far apart for deflate to see, so this costs ~40 KB gzipped for all three instead of ~66 as three
 * separately compressed files. A test rebuilds each variant and compares it with its build byte for byte.
 *
 * The container is our own build output, but the decoder still checks every length and offset, so a
 * corrupted bundle gives a WasmzooError, never a read out of bounds or an endless loop.
 */
import { WasmzooError } from '../errors.js';

export type Variant = 'relaxed' | 'simd' | 'scalar';

function corrupt(what: string): never {
  throw new WasmzooError('E_RUNTIME', `the embedded kernels are corrupt (${what}): reinstall wasmzoo`);
}

/** The three parts of the container: SIMD module, relaxed delta, scalar delta. */
function parts(container: Uint8Array): Uint8Array[] {
  const view = new DataView(container.buffer, container.byteOffset, container.byteLength);
  const out: Uint8Array[] = [];
  let p = 0;
  for (let i = 0; i < 3; i++) {
    if (p + 4 > container.length) corrupt('truncated container');
    const n = view.getUint32(p, true);
    if (n > container.length - p - 4) corrupt('part longer than the container');
    out.push(container.subarray(p + 4, p + 4 + n));
    p += 4 + n;
  }
  return out;
}

/** Rebuild the target of `delta` (format in tools/wasm-delta.mjs) from `ref`. */
export function applyDelta(ref: Uint8Array, delta: Uint8Array): Uint8Array<ArrayBuffer> {
  if (delta.length < 8) corrupt('truncated delta');
  const view = new DataView(delta.buffer, delta.byteOffset, delta.byteLength);
  const size = view.getUint32(0, true), opsEnd = 8 + view.getUint32(4, true);
  if (opsEnd > delta.length) corrupt('op stream past the end');
  const out = new Uint8Array(size);
  let op = 8, lit = opsEnd, o = 0, from = 0;
  const uleb = (): number => {
    let r = 0, scale = 1, x: number;
    do {
      if (op >= opsEnd || scale > 2 ** 35) corrupt('bad number');
      x = delta[op++];
      r += (x & 0x7f) * scale;
      scale *= 128;
    } while (x & 0x80);
    return r;
  };
  while (op < opsEnd) {
    const tag = uleb(), n = Math.floor(tag / 2);
    if (n === 0 || n > size - o) corrupt('run past the end of the module');
    if (tag % 2) {
      const z = uleb();
      from += z % 2 ? -(z + 1) / 2 : z / 2;
      if (from < 0 || from + n > ref.length) corrupt('copy outside the reference');
      out.set(ref.subarray(from, from + n), o);
      from += n;
    } else {
      if (lit + n > delta.length) corrupt('literals past the end');
      out.set(delta.subarray(lit, lit + n), o);
      lit += n;
    }
    o += n;
  }
  if (o !== size || lit !== delta.length) corrupt('length mismatch');
  return out;
}

/** One variant's module bytes from the (inflated) container. */
export function variantFromContainer(container: Uint8Array, variant: Variant): Uint8Array<ArrayBuffer> {
  const [simd, relaxed, scalar] = parts(container);
  if (variant === 'simd') return simd.slice();
  return applyDelta(simd, variant === 'relaxed' ? relaxed : scalar);
}

/**
 * Decode base64: natively where the engine can (Uint8Array.fromBase64 in new engines, Buffer in Node and
 * Deno: 0.1 ms for the kernels against 3.5 ms for the atob loop, which is start-up time), else atob (browsers,
 * workers). Whitespace around the payload (the bundle keeps it on a line of its own) is skipped by all three.
 */
export function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  const g = globalThis as { Buffer?: { from(s: string, enc: string): Uint8Array }; Uint8Array: { fromBase64?: (s: string) => Uint8Array } };
  const native = g.Uint8Array.fromBase64;
  if (typeof native === 'function') return native(b64.trim()) as Uint8Array<ArrayBuffer>;
  if (typeof g.Buffer?.from === 'function') {
    const b = g.Buffer.from(b64, 'base64');
    return new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);
  }
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
