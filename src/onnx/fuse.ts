/**
 * The session's graph passes at load (after the op checks and constant folding, on the nodes that run per
 * call), and how their nodes run. Three passes, all so an exported convnet runs as the zoo's own models do:
 *
 * Fusion: a Conv whose only reader is an activation the kernels compute in their epilogue (Relu, LeakyRelu,
 * Sigmoid, Tanh, Clip(0, cap)) becomes one Conv with that activation; a Conv whose only reader is an Add (a residual: the
 * other operand has the output's shape), optionally followed by such an activation as the Add's only reader,
 * becomes one Conv that accumulates onto the other operand before the activation (src/models/resnet.ts fuses
 * its blocks so); Gemm / MatMul + activation likewise. A fused node keeps the Conv's (Gemm's) name and
 * opType and lists the original nodes (OpNode.fused); it runs where the last of them ran, reading the
 * original inputs. When the kernel path does not take what arrives at run time (a float64 model, a 3-D conv,
 * an Add that broadcasts), it runs the original nodes one by one, so results and error messages are the
 * unfused ones. Clip(0, cap) with constant bounds is the kernels' relu_cap (ReLU6), or relu without a cap.
 *
 * Layout: the conv and pool kernels work in NHWC, ONNX in NCHW. A value every reader of which takes NHWC
 * (a Conv's X or residual, a pool's X, a channel Concat, or an elementwise op below) stays NHWC (OnnxTensor.layout, ops/nhwc.ts)
 * instead of being transposed back and forth at every op; a kernel leaves such a value in its arena block
 * (OnnxTensor.ptr) for the next kernel to read there, and the session releases it after its last reader. Elementwise ops are layout-blind when their
 * operands are NHWC values of one shape and scalars: they run on the data as it is. Every other op, and the
 * caller, gets NCHW: runStep transposes before it runs whatever does not read NHWC, and after it the outputs
 * the plan did not mark (OpNode.nhwcOut).
 *
 * In-place Concat (planConcats): convs whose only reader is a channel Concat write straight into their
 * channels of its block (the kernels' output pixel stride), so the Concat copies nothing.
 */
import { WasmzooError, activation } from '../index.js';
import { numel, type OnnxTensor } from './value.js';
import { ONNX_OPS } from './ops/index.js';
import type { Fusion, OpContext, OpNode } from './ops/types.js';
import { convFused } from './ops/conv.js';
import { gemmFused } from './ops/matmul.js';
import { concatChannelsNhwc, isNhwc, isResident, releaseResident, toJs, toNchw } from './ops/nhwc.js';

/** Ops that read input 0 in either layout (and write NHWC when OpNode.nhwcOut): the kernels' NHWC ops. */
const NHWC_NATIVE = new Set(['Conv', 'MaxPool', 'AveragePool']);

/**
 * Elementwise ops whose result per element depends only on the operands' element at the same index (and on
 * scalars): on NHWC operands of one shape they compute the NHWC result. Multi-output (Dropout) and
 * dtype-changing ops (Cast, comparisons) are left out.
 */
const LAYOUT_BLIND = new Set([
  'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Clip', 'HardSigmoid', 'HardSwish', 'Elu', 'Selu', 'Celu', 'Softplus',
  'Softsign', 'Mish', 'Gelu', 'Neg', 'Abs', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Erf', 'Identity',
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'PRelu',
]);

/** A load-time constant by name (initializers and folded values), for the bounds of a Clip. */
export type ConstantOf = (name: string) => OnnxTensor | undefined;

/** A float32 scalar constant's value; undefined when `name` is empty (the bound is absent), null when it is not such a constant. */
function scalarConstant(name: string | undefined, constantOf: ConstantOf): number | undefined | null {
  if (!name) return undefined;
  const t = constantOf(name);
  return t && t.dtype === 'float32' && t.data.length === 1 ? (t.data as Float32Array)[0] : null;
}

/**
 * Clip(0, cap) as the kernels' relu (no cap) or relu_cap (ReLU6 and the like), or undefined: the bounds are
 * attributes before opset 11, optional float32 scalar inputs from 11 (which must be load-time constants).
 */
function clipActivation(node: OpNode, constantOf: ConstantOf): { act: number; alpha: number } | undefined {
  let lo: number | undefined | null, hi: number | undefined | null;
  if (node.opset < 11) {
    if (node.inputs.length !== 1) return undefined;
    lo = node.attrs.float('min', -Infinity);
    hi = node.attrs.float('max', Infinity);
  } else {
    if (node.inputs.length > 3) return undefined;
    lo = scalarConstant(node.inputs[1], constantOf);
    hi = scalarConstant(node.inputs[2], constantOf);
    if (hi === undefined) hi = Infinity; // absent; null (not a constant scalar) stays null
  }
  if (lo !== 0 || hi === null || !(hi > 0)) return undefined;
  if (hi === Infinity) return { act: activation('relu').code, alpha: 0 };
  return Number.isFinite(hi) ? { act: activation('relu_cap', hi).code, alpha: hi } : undefined;
}

/** The kernels' activation code and parameter for an activation node they can compute, or undefined. */
function epilogueActivation(node: OpNode, constantOf: ConstantOf): { act: number; alpha: number } | undefined {
  if (node.outputs.length !== 1) return undefined;
  if (node.opType === 'Clip') return clipActivation(node, constantOf);
  if (node.inputs.length !== 1) return undefined;
  switch (node.opType) {
    case 'Relu': return { act: activation('relu').code, alpha: 0 };
    case 'Sigmoid': return { act: activation('sigmoid').code, alpha: 0 };
    case 'Tanh': return { act: activation('tanh').code, alpha: 0 };
    case 'LeakyRelu': {
      const alpha = node.attrs.float('alpha', 0.01);
      return Number.isFinite(alpha) ? { act: activation('leaky_relu', alpha).code, alpha } : undefined;
    }
    default: return undefined;
  }
}

interface Reader { node: OpNode; at: number; }

/** Who reads each value among `nodes` (input positions), graph outputs aside. */
function readersOf(nodes: readonly OpNode[]): Map<string, Reader[]> {
  const readers = new Map<string, Reader[]>();
  for (const node of nodes) {
    node.inputs.forEach((x, at) => {
      if (!x) return;
      let list = readers.get(x);
      if (!list) readers.set(x, (list = []));
      list.push({ node, at });
    });
  }
  return readers;
}

/**
 * The fusion pass: `nodes` (the per-call nodes in a topological order) with every fusable group replaced by
 * one fused node at the place of its last member. `outputs`: the graph's output names (a value the caller
 * sees is never fused away).
 */
export function fuseNodes(nodes: readonly OpNode[], outputs: ReadonlySet<string>, constantOf: ConstantOf = () => undefined): OpNode[] {
  const readers = readersOf(nodes);
  /** The one node reading `value` (at one position), when no other node and no graph output reads it. */
  const onlyReader = (value: string): Reader | undefined => {
    const list = readers.get(value);
    return list && list.length === 1 && !outputs.has(value) ? list[0] : undefined;
  };
  const absorbed = new Set<OpNode>();
  const replacing = new Map<OpNode, OpNode>();
  for (const head of nodes) {
    const kind = head.opType;
    if ((kind !== 'Conv' && kind !== 'Gemm' && kind !== 'MatMul') || absorbed.has(head)) continue;
    if (head.outputs.length !== 1 || !head.outputs[0] || head.inputs.length > 3) continue;
    const next = onlyReader(head.outputs[0]);
    if (!next || absorbed.has(next.node)) continue;
    const group = [head];
    const inputs = [...head.inputs];
    let residual: number | undefined;
    let act = next.at === 0 ? epilogueActivation(next.node, constantOf) : undefined;
    if (act) group.push(next.node);
    else if (kind === 'Conv' && next.node.opType === 'Add' && next.node.inputs.length === 2 && next.node.outputs.length === 1) {
      const other = next.node.inputs[1 - next.at];
      if (!other || other === head.outputs[0]) continue;
      while (inputs.length < 3) inputs.push('');
      residual = inputs.push(other) - 1;
      group.push(next.node);
      const after = onlyReader(next.node.outputs[0]);
      act = after && after.at === 0 && !absorbed.has(after.node) ? epilogueActivation(after.node, constantOf) : undefined;
      if (act) group.push(after!.node);
    } else continue;
    const last = group[group.length - 1];
    // the activation's other inputs (a Clip's bounds) ride along, for the fallback to the original nodes
    const extra = act ? last.inputs.slice(1).filter((x) => x) : [];
    if (extra.length) {
      while (inputs.length < 3) inputs.push('');
      inputs.push(...extra);
    }
    const fused: Fusion = { nodes: group, act: act?.act ?? 0, alpha: act?.alpha ?? 0, residual };
    for (const n of group) absorbed.add(n);
    replacing.set(last, { ...head, inputs, outputs: [...last.outputs], fused, nhwcOut: undefined });
  }
  const out: OpNode[] = [];
  for (const node of nodes) {
    const f = replacing.get(node);
    if (f) out.push(f);
    else if (!absorbed.has(node)) out.push(node);
  }
  return out;
}

/** Whether `reader` takes an NHWC value at input position `at`. */
function takesNhwc(reader: OpNode, at: number): boolean {
  if (reader.fused) return reader.opType === 'Conv' && (at === 0 || at === reader.fused.residual);
  if (NHWC_NATIVE.has(reader.opType)) return at === 0;
  return LAYOUT_BLIND.has(reader.opType) || reader.opType === 'Concat';
}

/**
 * The layout pass: marks OpNode.nhwcOut on every node that may write NHWC (a conv or pool kernel, a channel
 * Concat, an elementwise op passing NHWC through) and whose output has readers that all take NHWC (and is no graph
 * output). Nodes are the session's own objects (fresh per model), so marking them is safe.
 */
export function planLayouts(nodes: readonly OpNode[], outputs: ReadonlySet<string>): void {
  const readers = readersOf(nodes);
  for (const node of nodes) {
    const writes = (node.fused && node.opType === 'Conv') || NHWC_NATIVE.has(node.opType) || LAYOUT_BLIND.has(node.opType) || node.opType === 'Concat';
    const y = node.outputs[0];
    if (!writes || !y || node.outputs.slice(1).some((o) => o) || outputs.has(y)) continue;
    const list = readers.get(y);
    if (list && list.length > 0 && list.every((r) => takesNhwc(r.node, r.at))) node.nhwcOut = true;
  }
}

/**
 * The concat pass (after the layout pass): a channel Concat whose every input is the output of a 2-D Conv
 * (no residual) read by nothing else gets its convs to write their outputs into its block, each at its channel
 * offset (OpNode.concatSlot, computed from the convs' constant weights), and copies nothing at run time, as
 * the zoo's inception blocks do. When the dims at run time do not fit, the convs write blocks of their own
 * and the Concat copies (or reports the mismatch) as before.
 */
export function planConcats(nodes: readonly OpNode[], outputs: ReadonlySet<string>, constantOf: ConstantOf): void {
  const readers = readersOf(nodes);
  const producer = new Map<string, OpNode>();
  for (const node of nodes) for (const y of node.outputs) if (y) producer.set(y, node);
  for (const cat of nodes) {
    const axis = cat.opType === 'Concat' ? cat.attrs.int('axis', 1) : 0;
    if ((axis !== 1 && axis !== -3) || cat.inputs.length < 2 || !cat.outputs[0]) continue;
    const convs: OpNode[] = [], channels: number[] = [];
    for (const x of cat.inputs) {
      const conv = x ? producer.get(x) : undefined;
      const list = x ? readers.get(x) : undefined;
      const w = conv ? constantOf(conv.inputs[1]) : undefined;
      if (!conv || conv.opType !== 'Conv' || conv.fused?.residual !== undefined || conv.concatSlot || !conv.nhwcOut
        || outputs.has(x) || list?.length !== 1 || !w || w.dims.length !== 4 || convs.includes(conv)) break;
      convs.push(conv);
      channels.push(w.dims[0]);
    }
    if (convs.length !== cat.inputs.length) continue;
    const total = channels.reduce((a, b) => a + b, 0);
    let offset = 0;
    convs.forEach((conv, i) => {
      conv.concatSlot = { key: cat.outputs[0], offset, total };
      offset += channels[i];
    });
    cat.concatInPlace = true;
  }
}

/**
 * Runs one node the session scheduled: a fused node on its kernel path (or as its original nodes), any other
 * through its op, with NHWC inputs transposed for ops that do not read them and NHWC outputs transposed
 * unless the layout plan kept them.
 */
export function runStep(node: OpNode, inputs: Array<OnnxTensor | undefined>, ctx: OpContext, freed?: readonly string[]): OnnxTensor[] {
  const rt = ctx.rt;
  return runOp(node, inputs, ctx, freed).map((y) => {
    // the session releases a resident value once, by name: an op handing back a resident input would alias it
    if (isResident(y) && inputs.includes(y)) y = toJs(rt, y);
    if (node.nhwcOut || !isNhwc(y)) return y;
    const z = toNchw(rt, y);
    releaseResident(rt, y);
    return z;
  });
}

function runOp(node: OpNode, inputs: Array<OnnxTensor | undefined>, ctx: OpContext, freed?: readonly string[]): OnnxTensor[] {
  const rt = ctx.rt, op = ONNX_OPS[node.opType];
  if (node.fused) return runFused(node, node.fused, inputs, ctx, freed);
  if (node.concatInPlace) {
    const y = concatInPlace(node, inputs, ctx);
    if (y) return [y];
    inputs = inputs.map((t) => sliceOut(ctx, t)); // the dims did not fit: copy as any Concat
    releaseBlock(ctx, node.outputs[0]);
  }
  if (!inputs.some(isNhwc)) return op.run(node, inputs, ctx);
  if (node.opType === 'Concat' && channelAxis(node, inputs[0])) {
    const y = concatChannelsNhwc(rt, inputs, !!node.nhwcOut);
    if (y) return [y];
  }
  if (NHWC_NATIVE.has(node.opType)) return op.run(node, inputs.map((t, i) => (i === 0 ? t : toNchw(rt, t))), ctx);
  if (LAYOUT_BLIND.has(node.opType) && layoutBlindFits(inputs)) {
    const dims = inputs.find(isNhwc)!.dims;
    const plain = inputs.map((t) => (t && isNhwc(t) ? { dtype: t.dtype, dims: t.dims, data: toJs(rt, t).data } : t));
    return op.run(node, plain, ctx).map((y) => {
      // the operands' shape and scalars of rank <= 4 give that shape: anything else would be a bug, never NHWC data
      if (y.dtype !== 'float32' || y.dims.length !== 4 || y.dims.some((d, i) => d !== dims[i])) {
        throw new WasmzooError('E_ONNX', `onnx: ${node.opType} '${node.name}': internal: a layout-blind op changed the shape [${dims.join(', ')}] to [${y.dims.join(', ')}]`);
      }
      return { ...y, layout: 'nhwc' as const };
    });
  }
  return op.run(node, inputs.map((t) => toNchw(rt, t)), ctx);
}

/** An in-place Concat's output: its block, when every input is the slice its plan gave it (all convs wrote there). */
function concatInPlace(node: OpNode, inputs: ReadonlyArray<OnnxTensor | undefined>, ctx: OpContext): OnnxTensor | undefined {
  const key = node.outputs[0], b = ctx.concatBlocks?.get(key);
  if (!b || !inputs.every((t) => t?.slice?.key === key)) return undefined;
  ctx.concatBlocks!.delete(key);
  return { dtype: 'float32', dims: [b.n, b.total, b.h, b.w], data: new Float32Array(0), layout: 'nhwc', ptr: b.ptr };
}

/** A conv's slice of a Concat block as an NHWC value of its own (copied out), other values as they are. */
function sliceOut(ctx: OpContext, t: OnnxTensor | undefined): OnnxTensor | undefined {
  const b = t?.slice && ctx.concatBlocks?.get(t.slice.key);
  if (!t?.slice || !b) return t;
  const [n, c, h, w] = t.dims, data = new Float32Array(n * c * h * w);
  const dst = ctx.rt.arena.alloc(data.length * 4);
  try {
    ctx.rt.k.copy_channels(dst, b.ptr + t.slice.offset * 4, n * h * w, c, c, b.total);
    ctx.rt.arena.read(dst, data.length, data);
  } finally {
    ctx.rt.arena.release(dst);
  }
  return { dtype: t.dtype, dims: t.dims, data, layout: 'nhwc' };
}

/** Frees a Concat block still held for `key` (a Concat that copied after all, or a call that threw). */
export function releaseBlock(ctx: OpContext, key: string): void {
  const b = ctx.concatBlocks?.get(key);
  if (b) {
    ctx.rt.arena.release(b.ptr);
    ctx.concatBlocks!.delete(key);
  }
}

/** Whether a Concat joins rank-4 values along channels (axis 1 or -3; 1 before opset 4, where it was optional). */
function channelAxis(node: OpNode, first: OnnxTensor | undefined): boolean {
  const axis = node.attrs.int('axis', 1);
  return !!first && first.dims.length === 4 && (axis === 1 || axis === -3);
}

/** An elementwise op can run on NHWC data as it is: the NHWC operands share one shape, the rest are scalars of rank <= 4. */
function layoutBlindFits(inputs: ReadonlyArray<OnnxTensor | undefined>): boolean {
  const dims = inputs.find(isNhwc)!.dims;
  return inputs.every((t) => {
    if (!t) return true;
    if (isNhwc(t)) return t.dtype === 'float32' && t.dims.every((d, i) => d === dims[i]);
    return numel(t.dims) === 1 && t.dims.length <= 4;
  });
}

function runFused(node: OpNode, f: Fusion, inputs: Array<OnnxTensor | undefined>, ctx: OpContext, freed?: readonly string[]): OnnxTensor[] {
  // the plan leaves only X and the residual NHWC; anything else gets NCHW, as for any op
  if (node.opType === 'Conv') inputs = inputs.map((t, i) => (i === 0 || i === f.residual ? t : toNchw(ctx.rt, t)));
  const residual = f.residual === undefined ? undefined : inputs[f.residual];
  // dropped after this step and read here only as the residual: its arena block may take the output
  const takeResidual = f.residual !== undefined && !!freed?.includes(node.inputs[f.residual])
    && node.inputs.filter((x) => x === node.inputs[f.residual!]).length === 1;
  const y = node.opType === 'Conv'
    ? convFused(node, inputs, ctx, { act: f.act, alpha: f.alpha, residual, takeResidual })
    : gemmFused(node, inputs.map((t) => toNchw(ctx.rt, t)), ctx, { act: f.act, alpha: f.alpha });
  return y ? [y] : runOriginals(node, f, inputs, ctx);
}

/** The fused group's original nodes one after the other (NCHW), on the fused node's inputs. */
function runOriginals(node: OpNode, f: Fusion, inputs: ReadonlyArray<OnnxTensor | undefined>, ctx: OpContext): OnnxTensor[] {
  const values = new Map<string, OnnxTensor>();
  const constant = new Map<string, boolean>();
  node.inputs.forEach((x, i) => {
    const t = inputs[i];
    if (x && t) values.set(x, toNchw(ctx.rt, t));
    if (x) constant.set(x, ctx.constant[i] ?? false);
  });
  for (const n of f.nodes) {
    const ins = n.inputs.map((x) => (x ? values.get(x) : undefined));
    const outs = ONNX_OPS[n.opType].run(n, ins, { rt: ctx.rt, constant: n.inputs.map((x) => constant.get(x) ?? false) });
    n.outputs.forEach((y, j) => { if (y && outs[j]) values.set(y, outs[j]); });
  }
  return node.outputs.map((y) => values.get(y)!);
}
