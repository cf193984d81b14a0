/**
 * Scalar f64 oracles for the elementwise kernels (assembly/elementwise.ts) and the activations
 * (assembly/activation.ts), from PyTorch's documented semantics; independent of the kernels.
 * Layouts: flat arrays; per-channel ops are NHWC (P pixels x C channels, channels contiguous);
 * the layout transposes take/return NCHW and NHWC explicitly.
 */

/** Act codes as in src/runtime/kernels.ts: 0 none, 1 relu, 2 tanh, 3 sigmoid. */
export function actRef(x: number, act: number): number {
  switch (act) {
    case 1: return x < 0 ? 0 : x; // torch.relu: -0 stays -0, NaN stays NaN (std::max(x, 0))
    case 2: return Math.tanh(x);
    case 3: return 1 / (1 + Math.exp(-x));
    default: return x;
  }
}

export function mapRef(inp: ArrayLike<number>, f: (x: number) => number): Float64Array {
  const out = new Float64Array(inp.length);
  for (let i = 0; i < inp.length; i++) out[i] = f(inp[i]);
  return out;
}

/** out = act(a + b); the sum is rounded to f32 first, as the kernel (and PyTorch) add in f32. */
export function addRef(a: ArrayLike<number>, b: ArrayLike<number>, act: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = actRef(Math.fround(a[i] + b[i]), act);
  return out;
}

/** torch.softmax(x, dim=-1) over rows x cols. */
export function softmaxRef(inp: ArrayLike<number>, rows: number, cols: number, log: boolean): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let j = 0; j < cols; j++) m = Math.max(m, inp[r * cols + j]);
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(inp[r * cols + j] - m);
    for (let j = 0; j < cols; j++) {
      const z = inp[r * cols + j] - m;
      out[r * cols + j] = log ? z - Math.log(s) : Math.exp(z) / s;
    }
  }
  return out;
}

/** BatchNorm at inference folded to out[p,c] = act(inp[p,c]*scale[c] + shift[c]), NHWC. */
export function scaleShiftRef(inp: ArrayLike<number>, scale: ArrayLike<number>, shift: ArrayLike<number>, P: number, C: number, act: number): Float64Array {
  const out = new Float64Array(P * C);
  for (let p = 0; p < P; p++) for (let c = 0; c < C; c++) out[p * C + c] = actRef(inp[p * C + c] * scale[c] + shift[c], act);
  return out;
}

/**
 * torch.nn.LocalResponseNorm (https://pytorch.org/docs/stable/generated/torch.nn.LocalResponseNorm.html),
 * NHWC. torch.nn.functional.local_response_norm zero-pads the channel axis by size//2 in front and
 * (size-1)//2 behind and takes avg_pool3d over `size` channels, so the divisor is always `size`, also at
 * the edges: b_c = a_c / (k + alpha/size * sum_{c' = c - size//2 .. c + (size-1)//2, in range} a_c'^2)^beta.
 */
export function lrnRef(inp: ArrayLike<number>, P: number, C: number, size: number, alpha: number, beta: number, k: number): Float64Array {
  const out = new Float64Array(P * C);
  const lo = Math.floor(size / 2), hi = Math.floor((size - 1) / 2);
  for (let p = 0; p < P; p++) for (let c = 0; c < C; c++) {
    let s = 0;
    for (let j = Math.max(0, c - lo); j <= Math.min(C - 1, c + hi); j++) s += inp[p * C + j] ** 2;
    out[p * C + c] = inp[p * C + c] / Math.pow(k + (alpha / size) * s, beta);
  }
  return out;
}

/** NCHW [N,C,H,W] -> NHWC [N,H,W,C]. */
export function nchwToNhwcRef(inp: ArrayLike<number>, N: number, C: number, H: number, W: number): Float64Array {
  const out = new Float64Array(N * C * H * W);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    out[((n * H + h) * W + w) * C + c] = inp[((n * C + c) * H + h) * W + w];
  }
  return out;
}

/** NHWC [N,H,W,C] -> NCHW [N,C,H,W]. */
export function nhwcToNchwRef(inp: ArrayLike<number>, N: number, C: number, H: number, W: number): Float64Array {
  const out = new Float64Array(N * C * H * W);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    out[((n * C + c) * H + h) * W + w] = inp[((n * H + h) * W + w) * C + c];
  }
  return out;
}
