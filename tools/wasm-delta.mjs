// Build side of the kernel container (decoded by src/runtime/embedded-kernels.ts): the relaxed and scalar
// variants are stored as deltas against the SIMD variant, the three in one zlib stream.
//
// Why: the variants come from one AssemblyScript source, so most of their function bodies, types, exports and
// data are the same bytes, but far apart (the SIMD module is 124 KB; deflate only looks 32 KB back). A delta
// that copies runs from anywhere in the SIMD bytes turns those repeats into a few bytes each: measured on
// 2026-12-04, the relaxed variant costs 2.6 KB on top of SIMD (12.6 as a deflated function-body patch) and
// the scalar one 8.4 KB (17.6 deflated on its own, 23.8 as plain base64).
//
// Delta format (little-endian): u32 target length, u32 length of the op stream, the ops, then the literal
// bytes. An op is an unsigned LEB128 `tag`: odd = copy `tag >> 1` bytes from the reference at `from`, where
// `from` = end of the previous copy + a zigzag LEB128 that follows the tag (consecutive copies are nearby,
// so the numbers stay small); even = take the next `tag >> 1` literal bytes. Ops and literals are kept apart
// because deflate codes each kind better among its own.
//
// Container: u32 length + bytes, three times: the SIMD module, the relaxed delta, the scalar delta.

const KEY = 4; // bytes hashed to find candidate matches
const MIN_COPY = 8; // shorter runs cost more as a copy than as literals
const CANDIDATES = 256; // positions kept per hash (the SIMD module has many repeated 4-byte sequences)

function uleb(out, n) {
  while (n >= 128) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

/** A delta that rebuilds `target` from `ref` (greedy with one step of lazy matching). */
export function encodeDelta(ref, target) {
  const key = (b, i) => (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
  const index = new Map();
  for (let i = 0; i + KEY <= ref.length; i++) {
    const k = key(ref, i);
    let list = index.get(k);
    if (!list) index.set(k, (list = []));
    if (list.length < CANDIDATES) list.push(i);
  }
  let last = 0;
  const longest = (i) => {
    let len = 0, from = 0;
    if (i + KEY > target.length) return [0, 0];
    for (const p of index.get(key(target, i)) ?? []) {
      let n = 0;
      while (p + n < ref.length && i + n < target.length && ref[p + n] === target[i + n]) n++;
      if (n > len || (n === len && Math.abs(p - last) < Math.abs(from - last))) [len, from] = [n, p];
    }
    return [len, from];
  };
  const ops = [], literals = [];
  let pending = 0; // literal bytes not yet announced by an op
  const flush = () => {
    if (pending) uleb(ops, pending * 2);
    pending = 0;
  };
  for (let i = 0; i < target.length;) {
    const [len, from] = longest(i);
    // lazy: a literal now is cheaper when the match one byte on is longer
    if (len >= MIN_COPY && longest(i + 1)[0] <= len + 1) {
      flush();
      uleb(ops, len * 2 + 1);
      const d = from - last;
      uleb(ops, d >= 0 ? d * 2 : -d * 2 - 1);
      last = from + len;
      i += len;
    } else {
      literals.push(target[i++]);
      pending++;
    }
  }
  flush();
  const head = Buffer.alloc(8);
  head.writeUInt32LE(target.length, 0);
  head.writeUInt32LE(ops.length, 4);
  return Buffer.concat([head, Buffer.from(ops), Buffer.from(literals)]);
}

/** The container the bundles inline: SIMD whole, relaxed and scalar as deltas against it. */
export function kernelContainer(simd, relaxed, scalar) {
  const parts = [simd, encodeDelta(simd, relaxed), encodeDelta(simd, scalar)];
  return Buffer.concat(parts.flatMap((p) => {
    const n = Buffer.alloc(4);
    n.writeUInt32LE(p.length, 0);
    return [n, p];
  }));
}
