/** A delta that rebuilds `target` from `ref` (format in tools/wasm-delta.mjs). */
export function encodeDelta(ref: Uint8Array, target: Uint8Array): Uint8Array;
/** The kernel container: SIMD whole, relaxed and scalar as deltas against it. */
export function kernelContainer(simd: Uint8Array, relaxed: Uint8Array, scalar: Uint8Array): Uint8Array;
