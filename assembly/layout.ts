// Copies and layout changes: channel slices of P pixels (concat along channels, slices) and the NCHW <-> NHWC
// transposes at the API boundary (the engine runs NHWC; PyTorch's NCHW exists only there). Bit-exact: integer
// loads for scalars, so NaN payloads survive. out and inp must not overlap.
// Callers: the graph builder (src/graph/graph.ts: layout changes) and layers through src/runtime/kernels.ts.
// Memory: pointers are byte offsets (any 4-byte alignment), dims and pixel strides are elements.
import { ldv, stv } from './ptr';


/** inp[P, in_ps] -> out[P, out_ps]: channels 0..C-1 of every pixel (concat along channels, slices). */
export function copy_channels(out: usize, inp: usize, P: i32, C: i32, out_ps: i32, in_ps: i32): void {
  if (out_ps == C && in_ps == C) {
    memory.copy(out, inp, <usize>P * <usize>C << 2);
    return;
  }
  for (let p = 0; p < P; p++) {
    const x = inp + (<usize>p * <usize>in_ps << 2), y = out + (<usize>p * <usize>out_ps << 2);
    let c = 0;
    if (ASC_FEATURE_SIMD) {
      for (; c + 16 <= C; c += 16) {
        const v0 = ldv(x, c), v1 = ldv(x, c + 4), v2 = ldv(x, c + 8), v3 = ldv(x, c + 12);
        stv(y, c, v0); stv(y, c + 4, v1); stv(y, c + 8, v2); stv(y, c + 12, v3);
      }
      for (; c + 4 <= C; c += 4) stv(y, c, ldv(x, c));
    }
    for (; c < C; c++) store<u32>(y + (<usize>c << 2), load<u32>(x + (<usize>c << 2)));
  }
}

/** inp[R, S] -> out[S, R] (row-major both). 4x4 blocks are transposed in registers; edges go scalar. */
@inline function transpose_plane(out: usize, inp: usize, R: i32, S: i32): void {
  let r = 0;
  if (ASC_FEATURE_SIMD) {
    for (; r + 4 <= R; r += 4) {
      const x0 = inp + (<usize>r * <usize>S << 2);
      const x1 = x0 + (<usize>S << 2), x2 = x1 + (<usize>S << 2), x3 = x2 + (<usize>S << 2);
      let s = 0;
      for (; s + 4 <= S; s += 4) {
        const a0 = ldv(x0, s), a1 = ldv(x1, s), a2 = ldv(x2, s), a3 = ldv(x3, s);
        const t0 = v128.shuffle<i32>(a0, a1, 0, 4, 1, 5); // a00 a10 a01 a11
        const t1 = v128.shuffle<i32>(a0, a1, 2, 6, 3, 7); // a02 a12 a03 a13
        const t2 = v128.shuffle<i32>(a2, a3, 0, 4, 1, 5); // a20 a30 a21 a31
        const t3 = v128.shuffle<i32>(a2, a3, 2, 6, 3, 7); // a22 a32 a23 a33
        const y = out + ((<usize>s * <usize>R + <usize>r) << 2);
        const rs = <usize>R << 2;
        v128.store(y, v128.shuffle<i32>(t0, t2, 0, 1, 4, 5));
        v128.store(y + rs, v128.shuffle<i32>(t0, t2, 2, 3, 6, 7));
        v128.store(y + 2 * rs, v128.shuffle<i32>(t1, t3, 0, 1, 4, 5));
        v128.store(y + 3 * rs, v128.shuffle<i32>(t1, t3, 2, 3, 6, 7));
      }
      for (; s < S; s++) {
        const y = out + ((<usize>s * <usize>R + <usize>r) << 2), o = <usize>s << 2;
        store<u32>(y, load<u32>(x0 + o));
        store<u32>(y + 4, load<u32>(x1 + o));
        store<u32>(y + 8, load<u32>(x2 + o));
        store<u32>(y + 12, load<u32>(x3 + o));
      }
    }
  }
  for (; r < R; r++) {
    const x = inp + (<usize>r * <usize>S << 2);
    for (let s = 0; s < S; s++) store<u32>(out + ((<usize>s * <usize>R + <usize>r) << 2), load<u32>(x + (<usize>s << 2)));
  }
}

/** inp[N, C, H, W] (PyTorch layout) -> out[N, H, W, C]. out must not overlap inp. */
export function nchw_to_nhwc(out: usize, inp: usize, N: i32, C: i32, H: i32, W: i32): void {
  const plane = <usize>C * <usize>H * <usize>W << 2;
  for (let n = 0; n < N; n++) transpose_plane(out + <usize>n * plane, inp + <usize>n * plane, C, H * W);
}

/** inp[N, H, W, C] -> out[N, C, H, W] (PyTorch layout). out must not overlap inp. */
export function nhwc_to_nchw(out: usize, inp: usize, N: i32, C: i32, H: i32, W: i32): void {
  const plane = <usize>C * <usize>H * <usize>W << 2;
  for (let n = 0; n < N; n++) transpose_plane(out + <usize>n * plane, inp + <usize>n * plane, H * W, C);
}
