/**
 * The relaxed-SIMD kernels ship as a patch on the SIMD kernels: both variants come from one source with
 * compile-time branches, so they have the same functions, types, exports and data, and differ only in the
 * bodies of the functions that use relaxed instructions (about a quarter of them). Inlining the SIMD module
 * plus those bodies instead of both modules keeps the bundle under its size budget.
 *
 * Patch format (little-endian u32s): count, then per replaced function: index, byte length, body bytes
 * (the body without its size prefix, as in the code section). Written by tools/build-wasm.mjs; a test
 * checks that patching the SIMD build reproduces the relaxed build byte for byte.
 */

/** An unsigned LEB128 at b[i]: [value, index after it]. Throws past the end (trusted module bytes, checked). */
export function readLeb(b: Uint8Array, i: number): [number, number] {
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
export function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let x = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) x |= 0x80;
    out.push(x);
  } while (n > 0);
  return out;
}

/** Rebuild a module from `base` with some function bodies replaced (see the file header). */
export function applyWasmPatch(base: Uint8Array, patch: Uint8Array): Uint8Array<ArrayBuffer> {
  const pv = new DataView(patch.buffer, patch.byteOffset, patch.byteLength);
  const count = pv.getUint32(0, true);
  const repl = new Map<number, Uint8Array>();
  let p = 4;
  for (let i = 0; i < count; i++) {
    const idx = pv.getUint32(p, true), len = pv.getUint32(p + 4, true);
    repl.set(idx, patch.subarray(p + 8, p + 8 + len));
    p += 8 + len;
  }
  const parts: Uint8Array[] = [base.subarray(0, 8)];
  let i = 8;
  while (i < base.length) {
    const id = base[i];
    const [size, start] = readLeb(base, i + 1);
    const end = start + size;
    if (id !== 10) {
      parts.push(base.subarray(i, end));
    } else {
      let [n, j] = readLeb(base, start);
      const bodies: number[][] = [];
      const code: Uint8Array[] = [];
      let total = leb(n).length;
      for (let f = 0; f < n; f++) {
        const [bs, k] = readLeb(base, j);
        const body = repl.get(f) ?? base.subarray(k, k + bs);
        const prefix = leb(body.length);
        bodies.push(prefix);
        code.push(body);
        total += prefix.length + body.length;
        j = k + bs;
      }
      parts.push(new Uint8Array([10, ...leb(total), ...leb(n)]));
      for (let f = 0; f < n; f++) {
        parts.push(new Uint8Array(bodies[f]));
        parts.push(code[f]);
      }
    }
    i = end;
  }
  const out = new Uint8Array(parts.reduce((s, x) => s + x.length, 0));
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
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
