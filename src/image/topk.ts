/**
 * Top-k classes of classifier output, per batch row.
 *
 * `topK(logits, k, labels?)`: logits are a Tensor [N, classes] (or [classes]) or a flat Float32Array /
 * number[] (one row). Each entry gives both the raw `logit` and the softmax `probability` over the whole
 * row (computed in float64 with the max subtracted, so it never overflows): models return logits, as
 * torchvision's do, and people want to read probabilities. If the input already is probabilities (a
 * model ending in Softmax), read `logit`, which is then that probability.
 *
 * Labels: the given array (its length must equal the number of classes), else `imagenetClasses` when
 * there are 1000 classes, else none (`label` undefined). Ties keep the lower index first.
 *
 * Every logit must be finite: a NaN or an infinity is an E_ARGUMENT naming the row and class (issue 12: an
 * all-NaN row, a broken model's output, was reported as class 0 with probability NaN). Mask classes with a
 * large negative number rather than -Infinity.
 */
import { WasmzooError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { imagenetClasses } from './labels.js';

export interface TopKEntry {
  /** Class index in the row. */
  index: number;
  /** Class name, if labels are known. */
  label: string | undefined;
  /** The raw value from the model. */
  logit: number;
  /** softmax(row)[index]. */
  probability: number;
}

/** The k best classes of each row: one array per batch row, best first. */
export function topK(logits: Tensor | Float32Array | readonly number[], k = 5, labels?: readonly string[]): TopKEntry[][] {
  let data: ArrayLike<number>;
  let cols: number;
  if (logits instanceof Tensor) {
    data = logits.data;
    const s = logits.shape;
    if (s.length > 2 || s.length === 0) throw new WasmzooError('E_SHAPE', `topK: expected logits [N, classes] or [classes], got [${s.join(', ')}]`);
    cols = s[s.length - 1];
  } else if (logits instanceof Float32Array || Array.isArray(logits)) {
    data = logits;
    cols = logits.length;
  } else {
    const got = logits === null ? 'null' : typeof logits === 'object' ? (logits as object).constructor?.name ?? 'object' : typeof logits;
    throw new WasmzooError('E_ARGUMENT', `topK: logits must be a Tensor, a Float32Array or an array of numbers, got ${got}`);
  }
  if (cols < 1) throw new WasmzooError('E_SHAPE', 'topK: no classes');
  if (!Number.isInteger(k) || k < 1) throw new WasmzooError('E_ARGUMENT', `topK: k must be a positive integer, got ${k}`);
  if (labels !== undefined && labels.length !== cols) {
    throw new WasmzooError('E_ARGUMENT', `topK: ${labels.length} labels for ${cols} classes`);
  }
  const names = labels ?? (cols === 1000 ? imagenetClasses : undefined);
  const kk = Math.min(k, cols);
  const rows = data.length / cols;
  checkFinite(data, cols);
  const out: TopKEntry[][] = [];
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    let max = -Infinity;
    for (let c = 0; c < cols; c++) if (data[off + c] > max) max = data[off + c];
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp(data[off + c] - max);
    // Partial selection: keep the best kk in a small sorted array (k is small; cols may be 1000).
    const best: number[] = [];
    const better = (a: number, b: number): boolean => {
      const va = data[off + a];
      const vb = data[off + b];
      return va > vb || (va === vb && a < b);
    };
    for (let c = 0; c < cols; c++) {
      if (best.length === kk && !better(c, best[kk - 1])) continue;
      let i = best.length === kk ? kk - 1 : best.length;
      if (best.length < kk) best.push(c);
      while (i > 0 && better(c, best[i - 1])) {
        best[i] = best[i - 1];
        i--;
      }
      best[i] = c;
    }
    out.push(best.map((c) => ({
      index: c,
      label: names?.[c],
      logit: data[off + c],
      probability: Math.exp(data[off + c] - max) / sum,
    })));
  }
  return out;
}

/** E_ARGUMENT at the first logit that is not a finite number (and how many there are). */
function checkFinite(data: ArrayLike<number>, cols: number): void {
  let bad = 0, first = -1;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      bad++;
      if (first < 0) first = i;
    }
  }
  if (!bad) return;
  const where = data.length > cols ? `row ${Math.floor(first / cols)}, class ${first % cols}` : `class ${first}`;
  const v = data[first];
  throw new WasmzooError('E_ARGUMENT', `topK: logits must be finite, got ${typeof v === 'number' ? v : JSON.stringify(v)} at ${where} ` +
    `(${bad} of ${data.length} values are not finite numbers): the model's output is unusable; check its input and weights`);
}
