/** Reads a committed golden file (written by a tools/gen_*.py PyTorch script) for tests. */
import { readFileSync } from 'node:fs';
import { readSafetensors } from '../../src/io/safetensors.js';
import { Tensor } from '../../src/tensor.js';

export class Golden {
  private file;
  constructor(name: string) {
    this.file = readSafetensors(new Uint8Array(readFileSync(new URL(`./${name}`, import.meta.url))));
    if (this.file.metadata.format !== 'wasmzoo-golden') throw new Error(`${name}: not a wasmzoo golden file`);
  }
  tensor(key: string): Tensor {
    const t = this.file.get(key);
    return new Tensor(this.file.toFloat32(t), t.shape);
  }
  /** Every tensor, by its key. */
  stateDictAll(): Record<string, Tensor> {
    return Object.fromEntries(this.file.names.map((n) => [n, this.tensor(n)]));
  }
  /** Every tensor under `prefix.`, with the prefix removed (a state dict). */
  stateDict(prefix: string, exclude: string[] = ['input', 'expected']): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const n of this.file.names) {
      if (!n.startsWith(prefix + '.')) continue;
      const k = n.slice(prefix.length + 1);
      if (exclude.some((e) => k === e || k.startsWith(e + '.'))) continue;
      out[k] = this.tensor(n);
    }
    return out;
  }
}
