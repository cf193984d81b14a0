/**
 * Closed-form hashed weights and inputs, bit-identical to tools/hashweights.py.
 *
 * Big models cannot keep weights in the repository, so their golden files hold only a seed and PyTorch's
 * outputs: tests and the benchmark regenerate the same float32 weights from (seed, state_dict key, index).
 *
 *   keyHash = fnv1a32(utf8(key))
 *   base    = fmix32(keyHash ^ fmix32(seed))
 *   h_i     = fmix32((base + i * 0x9E3779B9) mod 2^32)        (murmur3 finaliser)
 *   u_i     = (h_i >>> 8) / 2^24 - 0.5                        (24 bits: exact in float32, in [-0.5, 0.5))
 *   value_i = fround(a + u_i * b)                             (double arithmetic, one rounding to f32)
 *
 * Rules (a, b) by key and shape (one rule also looks at the other keys of the state dict):
 *   *.num_batches_tracked         0
 *   *.running_var                 0.75 + u/2          in [0.5, 1): positive
 *   *.running_mean, *.bias        u/16
 *   *.weight, 1-D (batch norm)    0.8 + u*0.4         in [0.6, 1.0)
 *     the last batch norm of a residual block (layerN.M.bnK.weight without a layerN.M.bnK+1.weight):
 *                                 0.1 + u*0.1         in [0.05, 0.15): damps the residual branch
 *   *.weight, 4-D (conv)          u * 5 / sqrt(fanIn),  fanIn = prod(shape[1:])
 *   *.weight, 2-D (linear)        u * 4 / sqrt(fanIn)
 *   "input"                       u * 4               in [-2, 2), like ImageNet-normalised pixels
 *
 * +, *, / and sqrt are correctly rounded IEEE-754 double operations in JavaScript and Python alike, so both
 * sides produce the same bits. With these constants a conv (+ batch norm) + ReLU keeps the signal's scale
 * and residual branches add ~10% each: hashed logits have a standard deviation of about 1-5 from AlexNet
 * to ResNet-152 (tools/hashweights.py says how they were tuned).
 */
import { Tensor, numel, type Shape } from '../tensor.js';
import type { Module } from '../nn/module.js';

const CONV_GAIN = 5;
const LINEAR_GAIN = 4;
const RESIDUAL_BN = /^(layer\d+\.\d+)\.bn(\d+)\.weight$/;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function fnv1a32(key: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(key)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** [a, b] of the rule for a key and shape; undefined for integer buffers (zero). */
function rule(key: string, shape: Shape, keys: ReadonlySet<string>): [number, number] | undefined {
  if (key.endsWith('num_batches_tracked')) return undefined;
  if (key.endsWith('running_var')) return [0.75, 0.5];
  if (key === 'input' || key.startsWith('input.')) return [0, 4];
  if (key.endsWith('running_mean') || key.endsWith('bias')) return [0, 0.0625];
  if (shape.length === 1) {
    const m = RESIDUAL_BN.exec(key);
    if (m && !keys.has(`${m[1]}.bn${Number(m[2]) + 1}.weight`)) return [0.1, 0.1];
    return [0.8, 0.4];
  }
  const fanIn = numel(shape.slice(1));
  return [0, (shape.length > 2 ? CONV_GAIN : LINEAR_GAIN) / Math.sqrt(fanIn)];
}

/**
 * Fill `out` with the first out.length hashed values of `key` (a tensor of `shape`) for `seed`; `keys` are
 * all keys of the state dict (for the residual batch-norm rule).
 */
export function hashInto(out: Float32Array, seed: number, key: string, shape: Shape, keys: ReadonlySet<string> = new Set()): Float32Array {
  const r = rule(key, shape, keys);
  if (!r) return out.fill(0);
  const [a, b] = r;
  const base = fmix32((fnv1a32(key) ^ fmix32(seed >>> 0)) >>> 0);
  const n = out.length;
  for (let i = 0; i < n; i++) {
    let h = (base + Math.imul(i, 0x9e3779b9)) | 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    out[i] = a + ((h >>> 8) / 16777216 - 0.5) * b; // the Float32Array store is the one rounding
  }
  return out;
}

/** A hashed tensor, e.g. `hashTensor(7, 'input', [1, 3, 224, 224])` for a test image batch. */
export function hashTensor(seed: number, key: string, shape: Shape): Tensor {
  return new Tensor(hashInto(new Float32Array(numel(shape)), seed, key, shape), shape);
}

/**
 * Fill every parameter and buffer of `model` by its state_dict key: the same values as
 * `tools/hashweights.py hash_state_dict(torch_model, seed)` gives the torchvision model.
 */
export function hashWeights<M extends Module>(model: M, seed: number): M {
  const params = model.namedState();
  const keys = new Set(params.map(([k]) => k));
  for (const [key, p] of params) p.set(hashInto(p.data, seed, key, p.shape, keys)); // set() bumps versions
  return model;
}
