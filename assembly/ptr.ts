// Element access at a byte pointer: element i of an f32 array at p lives at p + 4*i. Shared @inline helpers of
// the kernel files; index.ts does not re-export this file, so nothing here becomes a wasm export.
// ldv/stv move 4 lanes (f32x4): call them only inside `if (ASC_FEATURE_SIMD)` branches (the scalar variant has
// no v128). Any 4-byte alignment works: wasm v128 loads and stores do not need 16.

/** f32 element i at p. */
// @ts-ignore: decorator
@inline export function lds(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }
/** Store v as f32 element i at p. */
// @ts-ignore: decorator
@inline export function sts(p: usize, i: i32, v: f32): void { store<f32>(p + (<usize>i << 2), v); }
/** f32 elements i .. i+3 at p. */
// @ts-ignore: decorator
@inline export function ldv(p: usize, i: i32): v128 { return v128.load(p + (<usize>i << 2)); }
/** Store v as f32 elements i .. i+3 at p. */
// @ts-ignore: decorator
@inline export function stv(p: usize, i: i32, v: v128): void { v128.store(p + (<usize>i << 2), v); }
