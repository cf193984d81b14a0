// Embedding backward (https://pytorch.org/docs/stable/generated/torch.nn.Embedding.html). The forward is a row
// copy in TypeScript (src/nn/layers/embedding.ts), so only the gradient's scatter-add is a kernel. Caller: the
// Embedding training build (src/nn/layers/embedding.ts, its training half) through src/runtime/kernels.ts.
// Memory: pointers are byte offsets (4-byte alignment suffices), counts elements, ids i32.
import { lds, ldv, sts, stv } from './ptr';

/**
 * dw [num_embeddings, dim] += scatter of dy [count, dim] by ids [count] (i32): dw[ids[i]] += dy[i],
 * rows with ids[i] == padding_idx skipped (PyTorch: the padding row gets no gradient; pass -1 for none).
 * Always accumulates (zero dw first); repeated ids add up in order.
 */
export function embedding_backward(dw: usize, ids: usize, dy: usize, count: i32, dim: i32, padding_idx: i32): void {
  const rowb = <usize>dim << 2;
  for (let r = 0; r < count; r++) {
    const id = load<i32>(ids + (<usize>r << 2));
    if (id == padding_idx) continue;
    const d = dw + <usize>id * rowb, s = dy + <usize>r * rowb;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      for (; j + 4 <= dim; j += 4) stv(d, j, f32x4.add(ldv(d, j), ldv(s, j)));
    }
    for (; j < dim; j++) sts(d, j, lds(d, j) + lds(s, j));
  }
}
