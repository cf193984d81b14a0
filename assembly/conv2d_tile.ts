// Tile sizing shared by the im2col path of conv2d.ts and the Winograd path of conv2d_winograd.ts, and the
// float copy/zero loops that fill their tiles. Helpers only (constants and @inline functions): index.ts does not
// re-export this file, so nothing here becomes a wasm export. Sizes are floats (f32), pointers byte offsets.

/**
 * im2col tile budget: 512 K floats = 2 MB (a tile holds at least TILE_STEP pixels even if K is larger).
 * Big K (VGG 3x3x512: K = 4608, weights 9.4 MB) wants many pixels per tile, since every tile streams all
 * the weights: 30 -> 90 pixels took 512@28 from ~33 to ~38 GFLOP/s (relaxed). Small K wants tiles that
 * stay in L2 next to the weights: TILE_MAX.
 */
export const SCRATCH_FLOATS: i32 = 1 << 19;
/** Pixel tiles are multiples of 30 = lcm of the GEMM row tiles (4, 5, 6): no row tails inside a tile. */
export const TILE_STEP: i32 = 30;
export const TILE_MAX: i32 = 240;

/**
 * Row stride (floats) of an im2col tile. NOTE: when a row is a multiple of 1-2 KB (K = 512, 1152, 2304, 4608
 * in ResNet/VGG), the 6 rows a micro-kernel streams fall into the same few L1 sets (4 KB aliasing) and evict
 * each other; an odd number of cache lines per row spreads them over all sets. Small rows stay packed.
 */
// @ts-ignore: decorator
@inline export function tile_lda(K: i32): i32 {
  if (K < 256) return K;
  const lines = (K + 15) >> 4;
  return (lines | 1) << 4;
}

/** Output pixels per im2col tile for rows of K floats and M pixels in all. */
// @ts-ignore: decorator
@inline export function tile_rows(K: i32, M: i32): i32 {
  let mt = SCRATCH_FLOATS / max(tile_lda(K), 1);
  mt -= mt % TILE_STEP;
  mt = min(max(mt, TILE_STEP), TILE_MAX);
  return min(mt, M);
}

/** Copy n floats (no overlap). */
// @ts-ignore: decorator
@inline export function copy_f32(d: usize, s: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(d + (<usize>i << 2), v128.load(s + (<usize>i << 2)));
  }
  for (; i < n; i++) store<f32>(d + (<usize>i << 2), load<f32>(s + (<usize>i << 2)));
}

/** Zero n floats. */
// @ts-ignore: decorator
@inline export function zero_f32(d: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(d + (<usize>i << 2), f32x4.splat(0));
  }
  for (; i < n; i++) store<f32>(d + (<usize>i << 2), 0);
}
