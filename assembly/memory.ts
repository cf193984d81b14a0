// Where the TypeScript arena may start: the first byte after static data. Kernels use no managed memory
// (--runtime stub), so everything above __heap_base belongs to the arena in src/runtime/arena.ts.
export function heap_base(): usize {
  return (__heap_base + 63) & ~63;
}

/** Which variant this build is: 2 = relaxed SIMD, 1 = SIMD, 0 = scalar. Lets the loader label a Module it was given. */
export function variant(): i32 {
  if (ASC_FEATURE_RELAXED_SIMD) return 2;
  if (ASC_FEATURE_SIMD) return 1;
  return 0;
}
