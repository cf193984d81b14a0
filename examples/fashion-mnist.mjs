// Loads Fashion-MNIST from Debian's dataset-fashion-mnist package (IDX .gz files) as wasmzoo tensors.
//   apt-get install -y dataset-fashion-mnist      (or pass another folder as FASHION_MNIST_DIR)
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import * as wasmzoo from '../dist/wasmzoo.mjs';

export const DIR = process.env.FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
export const [MEAN] = wasmzoo.FASHION_MNIST_MEAN, [STD] = wasmzoo.FASHION_MNIST_STD; // 0.286, 0.353

export async function loadSplit(split) {
  const prefix = split === 'train' ? 'train' : 't10k';
  const file = (name) => {
    const p = join(DIR, `${prefix}-${name}-idx${name === 'images' ? 3 : 1}-ubyte.gz`);
    if (!existsSync(p)) throw new Error(`${p} not found: apt-get install -y dataset-fashion-mnist, or set FASHION_MNIST_DIR`);
    return new Uint8Array(readFileSync(p));
  };
  const images = await wasmzoo.readIdxGz(file('images'));
  const labels = await wasmzoo.readIdxGz(file('labels'));
  const [n, h, w] = images.dims;
  const x = new Float32Array(n * h * w);
  for (let i = 0; i < x.length; i++) x[i] = (images.data[i] / 255 - MEAN) / STD;
  return {
    x: wasmzoo.tensor(x, [n, 1, h, w]),
    y: wasmzoo.tensor(Float32Array.from(labels.data), [n]),
    u8: images.data,
  };
}
