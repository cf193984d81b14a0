/**
 * Normalise every accepted weight source to one view: name -> { shape, toFloat32() }, converting lazily so
 * that keys and shapes are checked before any data is widened or copied.
 *
 * Accepted: safetensors bytes (Uint8Array / ArrayBuffer), a Map or plain object of name -> Tensor or
 * { data, shape } (e.g. another model's stateDict()).
 */
import { WasmzooError } from '../errors.js';
import { Tensor, numel, shapeStr, type Shape } from '../tensor.js';
import { readSafetensors } from './safetensors.js';

export interface TensorLike {
  data: ArrayLike<number>;
  shape: Shape;
}

export type WeightSource =
  | Uint8Array
  | ArrayBuffer
  | Map<string, Tensor | TensorLike>
  | Record<string, Tensor | TensorLike>;

export interface WeightEntry {
  readonly shape: Shape;
  toFloat32(): Float32Array;
}

export function readWeights(src: WeightSource): Map<string, WeightEntry> {
  const out = new Map<string, WeightEntry>();
  if (src instanceof Uint8Array || src instanceof ArrayBuffer) {
    const file = readSafetensors(src);
    for (const name of file.names) {
      const info = file.get(name);
      out.set(name, { shape: info.shape, toFloat32: () => file.toFloat32(name) });
    }
    return out;
  }
  if (src === null || typeof src !== 'object') {
    throw new WasmzooError('E_ARGUMENT', `weights must be safetensors bytes (Uint8Array/ArrayBuffer) or a map of name -> tensor, got ${src === null ? 'null' : typeof src}`);
  }
  const entries = src instanceof Map ? [...src] : Object.entries(src);
  for (const [name, t] of entries) {
    if (!t || typeof t !== 'object' || !('data' in t) || !('shape' in t)) {
      throw new WasmzooError('E_ARGUMENT', `weights["${name}"] must be a Tensor or { data, shape }`);
    }
    const shape = [...t.shape];
    if (numel(shape) !== t.data.length) {
      throw new WasmzooError('E_SHAPE', `weights["${name}"]: shape ${shapeStr(shape)} holds ${numel(shape)} values but data has ${t.data.length}`);
    }
    out.set(name, { shape, toFloat32: () => (t.data instanceof Float32Array ? t.data : Float32Array.from(t.data)) });
  }
  return out;
}
