/**
 * f64 references for the losses (assembly/loss.ts), PyTorch's formulas with reduction 'sum' times `scale`
 * (the kernels' convention: L = scale * sum, gradient = dL/dinput).
 * - cross_entropy: https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html (labels outside
 *   [0, cols) ignored, as ignore_index)
 * - mse: https://pytorch.org/docs/stable/generated/torch.nn.MSELoss.html
 * - bce_with_logits: https://pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html (the stable form)
 * - kl_normal: the VAE KL term of Kingma & Welling (2014), appendix B.
 */
export function crossEntropyRef(x: ArrayLike<number>, labels: ArrayLike<number>, rows: number, cols: number, scale: number): { loss: number; grad: Float64Array } {
  let loss = 0;
  const grad = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const lab = labels[r];
    if (lab < 0 || lab >= cols) continue;
    let m = -Infinity;
    for (let j = 0; j < cols; j++) m = Math.max(m, x[r * cols + j]);
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(x[r * cols + j] - m);
    loss += m + Math.log(s) - x[r * cols + lab];
    for (let j = 0; j < cols; j++) grad[r * cols + j] = (Math.exp(x[r * cols + j] - m) / s - (j === lab ? 1 : 0)) * scale;
  }
  return { loss: loss * scale, grad };
}

export function mseRef(p: ArrayLike<number>, t: ArrayLike<number>, scale: number): { loss: number; grad: Float64Array } {
  let loss = 0;
  const grad = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) { const d = p[i] - t[i]; loss += d * d; grad[i] = 2 * scale * d; }
  return { loss: loss * scale, grad };
}

export function bceWithLogitsRef(x: ArrayLike<number>, t: ArrayLike<number>, scale: number): { loss: number; grad: Float64Array } {
  let loss = 0;
  const grad = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    loss += Math.max(v, 0) - v * t[i] + Math.log1p(Math.exp(-Math.abs(v)));
    const sig = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
    grad[i] = (sig - t[i]) * scale;
  }
  return { loss: loss * scale, grad };
}

export function klNormalRef(mu: ArrayLike<number>, logvar: ArrayLike<number>, scale: number): { loss: number; dmu: Float64Array; dlogvar: Float64Array } {
  let s = 0;
  const dmu = new Float64Array(mu.length), dlogvar = new Float64Array(mu.length);
  for (let i = 0; i < mu.length; i++) {
    const e = Math.exp(logvar[i]);
    s += 1 + logvar[i] - mu[i] * mu[i] - e;
    dmu[i] = scale * mu[i];
    dlogvar[i] = 0.5 * scale * (e - 1);
  }
  return { loss: -0.5 * s * scale, dmu, dlogvar };
}
