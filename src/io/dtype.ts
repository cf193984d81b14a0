/**
 * Safetensors element types and the bit-exact conversions between the narrow float formats and float32.
 *
 * Dtype names and order are the reference implementation's (huggingface/safetensors `Dtype`): the list is in
 * increasing alignment, and the writer orders tensors by that alignment (descending), so the order matters.
 *
 * Conversions work on raw bit patterns (a number holding the u16/u8 pattern), never on host-endian memory,
 * so callers decide byte order (safetensors is always little-endian). Caller: src/io/safetensors.ts.
 */

/** Reference dtype names, in the reference enum order (increasing alignment). */
export const DTYPES = [
  'BOOL',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'I16',
  'U16',
  'F16',
  'BF16',
  'I32',
  'U32',
  'F32',
  'F64',
  'I64',
  'U64',
] as const;

export type Dtype = (typeof DTYPES)[number];

/** Bytes per element. */
export const DTYPE_SIZE: Readonly<Record<Dtype, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

const DTYPE_RANK: ReadonlyMap<string, number> = new Map(DTYPES.map((d, i) => [d, i]));

/** True for one of the reference dtype names (exact, case-sensitive, like the reference's serde enum). */
export function isDtype(s: unknown): s is Dtype {
  return typeof s === 'string' && DTYPE_RANK.has(s);
}

/** Position in the reference enum (its alignment order); the writer sorts by this, descending. */
export function dtypeRank(d: Dtype): number {
  return DTYPE_RANK.get(d)!;
}

/** Integer dtypes (BOOL excluded). */
export function isIntegerDtype(d: Dtype): boolean {
  return d === 'U8' || d === 'I8' || d === 'I16' || d === 'U16' || d === 'I32' || d === 'U32' || d === 'I64' || d === 'U64';
}

/** Float dtypes. */
export function isFloatDtype(d: Dtype): boolean {
  return d === 'F8_E5M2' || d === 'F8_E4M3' || d === 'F16' || d === 'BF16' || d === 'F32' || d === 'F64';
}

/** True when typed arrays on this host are little-endian (every engine we know of; checked, not assumed). */
export const HOST_LITTLE_ENDIAN: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// One f32 <-> u32 punning slot. Typed-array punning keeps NaN payloads (a JS number may not).
const punF32 = new Float32Array(1);
const punU32 = new Uint32Array(punF32.buffer);

/** float32 bits of an IEEE half; exact for every input, NaN payload kept (shifted, like a hardware cvt). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return (sign | 0x7f800000 | (m << 13)) >>> 0;
  if (e !== 0) return (sign | ((e + 112) << 23) | (m << 13)) >>> 0;
  if (m === 0) return sign >>> 0;
  // Subnormal half m * 2^-24 is a normal float32: normalise the mantissa.
  let shift = 0;
  let mm = m;
  while ((mm & 0x400) === 0) {
    mm <<= 1;
    shift++;
  }
  return (sign | ((113 - shift) << 23) | ((mm & 0x3ff) << 13)) >>> 0;
}

/** Value of an IEEE half bit pattern (exact: every half is a float32). */
export function f16ToF32(h: number): number {
  punU32[0] = f16BitsToF32Bits(h & 0xffff);
  return punF32[0]!;
}

/**
 * IEEE half bits of a number, rounded to nearest, ties to even (first to float32, as PyTorch's
 * `tensor.float().half()` does). Overflow gives +-Inf, NaN stays a quiet NaN with the top payload bits.
 */
export function f32ToF16(x: number): number {
  punF32[0] = x;
  const u = punU32[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return mant !== 0 ? sign | 0x7e00 | (mant >>> 13) : sign | 0x7c00;
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below 2^-25: rounds to zero
    const full = mant | 0x800000;
    const shift = 14 - e; // 14..24
    let q = full >>> shift;
    const r = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (r > half || (r === half && (q & 1) !== 0)) q++; // may carry into the smallest normal: still right
    return sign | q;
  }
  let q = (e << 10) | (mant >>> 13);
  const r = mant & 0x1fff;
  if (r > 0x1000 || (r === 0x1000 && (q & 1) !== 0)) q++; // carry into exponent, up to 0x7c00 = Inf
  return sign | q;
}

/** float32 bits of a bfloat16 (it is the top half of a float32: exact, NaN payload kept). */
export function bf16BitsToF32Bits(b: number): number {
  return ((b & 0xffff) << 16) >>> 0;
}

/** Value of a bfloat16 bit pattern. */
export function bf16ToF32(b: number): number {
  punU32[0] = bf16BitsToF32Bits(b);
  return punF32[0]!;
}

/** bfloat16 bits of a number: round to nearest, ties to even (via float32); NaN stays a quiet NaN. */
export function f32ToBf16(x: number): number {
  punF32[0] = x;
  const u = punU32[0]!;
  if ((u & 0x7f800000) === 0x7f800000 && (u & 0x7fffff) !== 0) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/**
 * Value of an FP8 E4M3 byte, the "fn" variant of the reference and PyTorch's `float8_e4m3fn`: bias 7,
 * subnormals, no infinities, S.1111.111 is NaN, largest finite 448.
 */
export function f8e4m3ToF32(b: number): number {
  const s = b & 0x80 ? -1 : 1;
  const e = (b >>> 3) & 0xf;
  const m = b & 7;
  if (e === 0xf && m === 7) return NaN;
  if (e === 0) return s * m * 2 ** -9;
  return s * (8 + m) * 2 ** (e - 10);
}

/** Value of an FP8 E5M2 byte (PyTorch `float8_e5m2`): the top byte of an IEEE half, so exact via f16. */
export function f8e5m2ToF32(b: number): number {
  return f16ToF32((b & 0xff) << 8);
}

let f16Table: Uint32Array | undefined;
/** float32 bits for all 65536 halves (256 KB, built on first use): bulk F16 widening is one lookup. */
export function f16ToF32BitsTable(): Uint32Array {
  if (!f16Table) {
    f16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToF32Bits(h);
  }
  return f16Table;
}

/**
 * An integer to the nearest float32, ties to even, with one rounding. Number(v) alone would round to 53
 * bits first and could turn a near-tie into a tie; rounding to odd at 53 bits first makes the second
 * rounding exact (53 >= 24 + 2).
 */
export function bigToF32(v: bigint): number {
  const neg = v < 0n;
  let a = neg ? -v : v;
  let x: number;
  if (a <= BigInt(Number.MAX_SAFE_INTEGER)) x = Number(a);
  else {
    const shift = a.toString(2).length - 53;
    const sticky = (a & ((1n << BigInt(shift)) - 1n)) !== 0n;
    a >>= BigInt(shift);
    if (sticky) a |= 1n;
    x = Number(a) * 2 ** shift;
  }
  punF32[0] = neg ? -x : x;
  return punF32[0]!;
}
