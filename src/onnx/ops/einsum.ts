/**
 * ONNX Einsum (opset 12, https://onnx.ai/onnx/operators/onnx__Einsum.html): a plain reference loop over
 * every label, with numpy's rules: repeated labels in a term take a diagonal, `...` broadcasts, and an
 * implicit output (no `->`) is the broadcast dims then the labels seen once, in alphabetical order.
 * Accumulates in float64; the loop count is capped at 2^31 like any output.
 */
import type { OnnxTensor } from '../value.js';
import { opError, type OpNode, type OpTable } from './types.js';
import { MAX_ELEMENTS, fromFloat64, need, strides, toFloat64 } from './tensor-util.js';

interface Term { labels: string[]; ellipsis: number }

/** A term's labels with `...` as its position, before expansion. */
function parseTerm(node: OpNode, s: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s.startsWith('...', i)) {
      if (out.includes('...')) throw opError(node, `equation term '${s}' has two ellipses`);
      out.push('...');
      i += 2;
    } else if (/[a-zA-Z]/.test(s[i])) out.push(s[i]);
    else throw opError(node, `equation term '${s}' has '${s[i]}'`);
  }
  return out;
}

function parse(node: OpNode): { ins: string[][]; out: string[] | undefined } {
  const eq = node.attrs.string('equation', '').replace(/\s/g, '');
  const [lhs, rhs, extra] = eq.split('->');
  if (!lhs || extra !== undefined) throw opError(node, `equation '${eq}' is not 'terms->output'`);
  return { ins: lhs.split(',').map((t) => parseTerm(node, t)), out: rhs === undefined ? undefined : parseTerm(node, rhs) };
}

function einsum(node: OpNode, inputs: ReadonlyArray<OnnxTensor | undefined>): OnnxTensor {
  const { ins, out } = parse(node);
  if (ins.length !== inputs.length) throw opError(node, `equation has ${ins.length} terms for ${inputs.length} inputs`);
  const xs = ins.map((_, i) => need(node, inputs, i, `input ${i}`));
  // expand each '...' into broadcast labels '0', '1', ... aligned right across the inputs
  const eRank = xs.map((x, i) => (ins[i].includes('...') ? x.dims.length - (ins[i].length - 1) : 0));
  const maxE = Math.max(0, ...eRank);
  const ell = (e: number) => Array.from({ length: e }, (_, j) => String(maxE - e + j));
  const terms: Term[] = ins.map((t, i) => {
    if (eRank[i] < 0 || (!t.includes('...') && t.length !== xs[i].dims.length)) throw opError(node, `term ${i} does not match input rank ${xs[i].dims.length}`);
    return { labels: t.flatMap((l) => (l === '...' ? ell(eRank[i]) : [l])), ellipsis: eRank[i] };
  });
  const size = new Map<string, number>();
  terms.forEach((t, i) => t.labels.forEach((l, k) => {
    const d = xs[i].dims[k], prev = size.get(l);
    if (prev !== undefined && prev !== d && prev !== 1 && d !== 1) throw opError(node, `label '${l}' has sizes ${prev} and ${d}`);
    size.set(l, prev === undefined || prev === 1 ? d : prev);
  }));
  let outLabels: string[];
  if (out) outLabels = out.flatMap((l) => (l === '...' ? ell(maxE) : [l]));
  else {
    const count = new Map<string, number>();
    for (const t of terms) for (const l of t.labels) count.set(l, (count.get(l) ?? 0) + 1);
    outLabels = [...ell(maxE), ...[...count].filter(([l, c]) => c === 1 && /[a-zA-Z]/.test(l)).map(([l]) => l).sort()];
  }
  for (const l of outLabels) if (!size.has(l)) throw opError(node, `output label '${l}' is in no input`);
  const all = [...outLabels, ...[...size.keys()].filter((l) => !outLabels.includes(l))];
  const dims = all.map((l) => size.get(l)!);
  const loops = dims.reduce((a, b) => a * b, 1);
  if (loops > MAX_ELEMENTS) throw opError(node, `${loops} multiply-adds is more than 2^31`);
  // per input: the stride each label steps (summed when a label repeats: the diagonal; 0 when broadcast)
  const steps = terms.map((t, i) => {
    const st = strides(xs[i].dims);
    return all.map((l) => t.labels.reduce((a, m, k) => a + (m === l && xs[i].dims[k] !== 1 ? st[k] : 0), 0));
  });
  const outDims = outLabels.map((l) => size.get(l)!);
  const outSt = strides(outDims);
  const vals = xs.map(toFloat64);
  const acc = new Float64Array(outDims.reduce((a, b) => a * b, 1));
  const idx = new Array<number>(all.length).fill(0);
  const off = new Array<number>(xs.length).fill(0);
  for (let n = 0; n < loops; n++) {
    let o = 0;
    for (let k = 0; k < outLabels.length; k++) o += idx[k] * outSt[k];
    let p = 1;
    for (let i = 0; i < xs.length; i++) p *= vals[i][off[i]];
    acc[o] += p;
    for (let k = all.length - 1; k >= 0; k--) {
      idx[k]++;
      for (let i = 0; i < xs.length; i++) off[i] += steps[i][k];
      if (idx[k] < dims[k]) break;
      for (let i = 0; i < xs.length; i++) off[i] -= steps[i][k] * dims[k];
      idx[k] = 0;
    }
  }
  return { dtype: xs[0].dtype, dims: outDims, data: fromFloat64(xs[0].dtype, acc) };
}

export const EINSUM_OPS: OpTable = {
  Einsum: {
    check(node) {
      try {
        parse(node);
      } catch (e) {
        return (e as Error).message;
      }
      return undefined;
    },
    run: (node, inputs) => [einsum(node, inputs)],
  },
};
