/**
 * f64 oracles for the recurrent training cells (assembly/rnn_cell.ts, rnn_cell_backward.ts): one batch row of the gate math
 * forward (saving activations) and its backward, PyTorch's gate orders (LSTM i,f,g,o; GRU r,z,n with
 * n = tanh(gx_n + r·gh_n), gh = W_hh h + b_hh). Exact Math.tanh / Math.exp; checked by finite differences
 * in test/kernels/rnn_backward.test.ts. Slow on purpose; tests only.
 */
const sig = (x: number) => 1 / (1 + Math.exp(-x));

/** LSTM: pre [4H] -> act [4H] (σi, σf, tanh g, σo), c = σf·cPrev + σi·g, h = σo·tanh(c). */
export function lstmCellForwardRef(pre: ArrayLike<number>, cPrev: ArrayLike<number> | undefined, H: number) {
  const act = new Float64Array(4 * H), c = new Float64Array(H), h = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    const i = sig(pre[j]), f = sig(pre[H + j]), g = Math.tanh(pre[2 * H + j]), o = sig(pre[3 * H + j]);
    act[j] = i; act[H + j] = f; act[2 * H + j] = g; act[3 * H + j] = o;
    c[j] = f * (cPrev ? cPrev[j] : 0) + i * g;
    h[j] = o * Math.tanh(c[j]);
  }
  return { act, c, h };
}

/** LSTM backward from dh (of h) and dc (of c, from the next step): dpre [4H] and dcPrev [H]. */
export function lstmCellBackwardRef(act: ArrayLike<number>, c: ArrayLike<number>, cPrev: ArrayLike<number> | undefined,
  dh: ArrayLike<number>, dc: ArrayLike<number>, H: number) {
  const dpre = new Float64Array(4 * H), dcPrev = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    const i = act[j], f = act[H + j], g = act[2 * H + j], o = act[3 * H + j];
    const tc = Math.tanh(c[j]);
    const dct = dc[j] + dh[j] * o * (1 - tc * tc);
    dpre[j] = dct * g * i * (1 - i);
    dpre[H + j] = dct * (cPrev ? cPrev[j] : 0) * f * (1 - f);
    dpre[2 * H + j] = dct * i * (1 - g * g);
    dpre[3 * H + j] = dh[j] * tc * o * (1 - o);
    dcPrev[j] = dct * f;
  }
  return { dpre, dcPrev };
}

/** GRU: gx [3H] (input projection incl. b_ih), gh [3H] (W_hh h + b_hh), hPrev -> act (r, z, n), h. */
export function gruCellForwardRef(gx: ArrayLike<number>, gh: ArrayLike<number>, hPrev: ArrayLike<number> | undefined, H: number) {
  const act = new Float64Array(3 * H), h = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    const r = sig(gx[j] + gh[j]), z = sig(gx[H + j] + gh[H + j]);
    const n = Math.tanh(gx[2 * H + j] + r * gh[2 * H + j]);
    act[j] = r; act[H + j] = z; act[2 * H + j] = n;
    const hp = hPrev ? hPrev[j] : 0;
    h[j] = (1 - z) * n + z * hp;
  }
  return { act, h };
}

/** GRU backward from dh: gradients of gx, of gh, and of hPrev with gh held fixed (the direct path dh·z). */
export function gruCellBackwardRef(act: ArrayLike<number>, gh: ArrayLike<number>, hPrev: ArrayLike<number> | undefined,
  dh: ArrayLike<number>, H: number) {
  const dgx = new Float64Array(3 * H), dgh = new Float64Array(3 * H), dhPrev = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    const r = act[j], z = act[H + j], n = act[2 * H + j];
    const hp = hPrev ? hPrev[j] : 0;
    const dan = dh[j] * (1 - z) * (1 - n * n);
    const dar = dan * gh[2 * H + j] * r * (1 - r);
    const daz = dh[j] * (hp - n) * z * (1 - z);
    dgx[j] = dar; dgx[H + j] = daz; dgx[2 * H + j] = dan;
    dgh[j] = dar; dgh[H + j] = daz; dgh[2 * H + j] = dan * r;
    dhPrev[j] = dh[j] * z;
  }
  return { dgx, dgh, dhPrev };
}

/** Plain RNN: dpre = dh · act'(h) from the output h (tanh: 1 - h², relu: h > 0). */
export function rnnCellBackwardRef(h: ArrayLike<number>, dh: ArrayLike<number>, relu: boolean, H: number): Float64Array {
  const d = new Float64Array(H);
  for (let j = 0; j < H; j++) d[j] = relu ? (h[j] > 0 ? dh[j] : 0) : dh[j] * (1 - h[j] * h[j]);
  return d;
}
