/**
 * An ONNX model loaded and ready to run: `wasmzoo.loadOnnx(source, options)` -> OnnxModel.
 *
 * Load: decode the file (proto.ts), resolve external data from `options.externalData`, look every node up in
 * the op table (ops/index.ts) and ask its `check`; every unsupported op, attribute or dtype is reported at once
 * (E_UNSUPPORTED, node names). Then constant folding: every node whose inputs are all initializers or
 * constants (the Shape/Gather/Unsqueeze/Concat chains exporters emit around Reshape) runs once, here, so a
 * call runs only the nodes that depend on the inputs.
 * Run: the remaining nodes in graph order (ONNX requires a topological order; checked at load), each value
 * dropped after its last use. Shapes come from the inputs of each call, so batch size and other symbolic
 * dims may change between calls.
 *
 * Ops run one at a time, the heavy ones (Conv, Gemm, MatMul, pools) on the wasmzoo kernels, the rest in
 * TypeScript. After folding, src/onnx/fuse.ts fuses activations and residual adds into the convs' kernel
 * epilogues and lets values stay NHWC in arena blocks between the kernels that read them (an exported
 * ResNet-18 runs as fast as wasmzoo.resnet18: bench/onnx-resnet.mjs); `fuse: false` turns that off.
 */
// the core only through its public index: dist/onnx.mjs imports it from ./wasmzoo.mjs, the same copy users load
import { WasmzooError, Tensor, init, runtime, loadWeights, type Runtime, type ByteSource, type LoadWeightsOptions } from '../index.js';
import { decodeModel, fillFromRaw, type Graph, type Model, type ValueInfo } from './proto.js';
import { allocData, numel, type OnnxDType, type OnnxTensor } from './value.js';
import { ONNX_OPS } from './ops/index.js';
import { Attrs, type ConcatBlock, type OpNode } from './ops/types.js';
import { fuseNodes, planConcats, planLayouts, releaseBlock, runStep } from './fuse.js';
import { releaseResident, toNchw } from './ops/nhwc.js';

export interface LoadOnnxOptions extends LoadWeightsOptions {
  /** Bytes of external-data files by their `location` (models saved with save_as_external_data). */
  externalData?: Record<string, Uint8Array>;
  /**
   * false: run every node of the file as it is, NCHW between ops (to compare or debug). Default true: fuse
   * activations and residual adds into the convs and keep activations NHWC between them (src/onnx/fuse.ts).
   */
  fuse?: boolean;
}

/** A graph input or output: name, dtype and dims (a number, a symbolic name, or null when unknown). */
export interface OnnxValueInfo {
  name: string;
  dtype: OnnxDType | undefined;
  shape: Array<number | string | null> | undefined;
}

interface Step { node: OpNode; free: string[]; }

/** Opsets of the default domain the ops are written for: each op's check refuses the old forms it does not run. */
export const OPSET_MIN = 1, OPSET_MAX = 18;

export class OnnxModel {
  readonly inputs: OnnxValueInfo[];
  readonly outputs: OnnxValueInfo[];
  /** The default domain's opset the file imports. */
  readonly opset: number;
  /** Op types in the graph with their counts (after nothing is folded). */
  readonly ops: Record<string, number>;
  private readonly constants = new Map<string, OnnxTensor>();
  private readonly steps: Step[] = [];
  private readonly rt: Runtime;

  /** Use wasmzoo.loadOnnx; this takes decoded bytes and a started runtime. */
  constructor(model: Model, rt: Runtime, opts: LoadOnnxOptions = {}) {
    this.rt = rt;
    const g = model.graph;
    const def = model.opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx');
    this.opset = def?.version ?? 1;
    resolveExternal(g, opts.externalData);
    g.initializerNames.forEach((n, i) => this.constants.set(n, g.initializers[i]));
    const initialized = new Set(g.initializerNames);
    this.inputs = g.inputs.filter((v) => !initialized.has(v.name)).map(info);
    this.outputs = g.outputs.map(info);
    this.ops = {};
    const problems: string[] = [];
    if (this.opset > OPSET_MAX) problems.push(`the model imports opset ${this.opset}; wasmzoo runs opsets ${OPSET_MIN} to ${OPSET_MAX} (later opsets may change an op's meaning)`);
    if (this.opset < OPSET_MIN) problems.push(`the model imports opset ${this.opset}; wasmzoo runs opsets ${OPSET_MIN} to ${OPSET_MAX}`);
    const nodes: OpNode[] = g.nodes.map((n, i) => {
      this.ops[n.opType] = (this.ops[n.opType] ?? 0) + 1;
      const name = n.name || `${n.opType} #${i}`;
      return { name, opType: n.opType, opset: this.opset, attrs: new Attrs(n.attributes, `${n.opType} '${name}'`), inputs: n.inputs, outputs: n.outputs };
    });
    g.nodes.forEach((n, i) => {
      const node = nodes[i];
      if (n.domain !== '' && n.domain !== 'ai.onnx') {
        problems.push(`node '${node.name}' (${n.opType}): domain '${n.domain}' is not supported`);
        return;
      }
      const spec = ONNX_OPS[n.opType];
      if (!spec) {
        problems.push(`node '${node.name}': op ${n.opType} is not supported`);
        return;
      }
      const why = spec.check?.(node);
      if (why) problems.push(`node '${node.name}' (${n.opType}): ${why}`);
    });
    if (problems.length) {
      throw new WasmzooError('E_UNSUPPORTED', `onnx: this model uses what wasmzoo does not run (${problems.length}):\n  ${problems.join('\n  ')}`);
    }
    // topological order, and which values are known at load
    const known = new Set<string>([...initialized, '']);
    const available = new Set<string>([...known, ...this.inputs.map((v) => v.name)]);
    let dynamic: OpNode[] = [];
    for (const node of nodes) {
      for (const x of node.inputs) {
        if (!available.has(x)) throw new WasmzooError('E_ONNX', `onnx: node '${node.name}' (${node.opType}) reads '${x}', which no earlier node, input or initializer produces`);
      }
      for (const y of node.outputs) available.add(y);
      if (node.inputs.every((x) => known.has(x)) && node.opType !== 'RandomNormal' && node.opType !== 'RandomUniform') {
        const outs = this.exec(node, this.constants);
        node.outputs.forEach((y, j) => {
          if (y && outs[j]) {
            this.constants.set(y, outs[j]);
            known.add(y);
          }
        });
      } else dynamic.push(node);
    }
    for (const o of this.outputs) {
      if (!available.has(o.name)) throw new WasmzooError('E_ONNX', `onnx: graph output '${o.name}' is produced by no node`);
    }
    const outputNames = new Set(this.outputs.map((o) => o.name));
    if (opts.fuse !== false) {
      dynamic = fuseNodes(dynamic, outputNames, (name) => this.constants.get(name));
      planLayouts(dynamic, outputNames);
      planConcats(dynamic, outputNames, (name) => this.constants.get(name));
    }
    // drop each dynamic value after its last reader
    const lastUse = new Map<string, number>();
    dynamic.forEach((node, i) => node.inputs.forEach((x) => { if (x && !this.constants.has(x)) lastUse.set(x, i); }));
    const frees: string[][] = dynamic.map(() => []);
    for (const [x, i] of lastUse) if (!outputNames.has(x)) frees[i].push(x);
    dynamic.forEach((node, i) => this.steps.push({ node, free: frees[i] }));
  }

  /** Number of nodes that run per call (after constant folding and fusion). */
  get runtimeNodes(): number {
    return this.steps.length;
  }

  /** Run with ONNX tensors of any dtype by input name; every graph output by name. */
  runTensors(feeds: Record<string, OnnxTensor>): Record<string, OnnxTensor> {
    const values = new Map<string, OnnxTensor>(this.constants);
    for (const inp of this.inputs) {
      const t = feeds[inp.name];
      if (!t) throw new WasmzooError('E_ARGUMENT', `onnx: input '${inp.name}' is missing (the model's inputs: ${this.inputs.map((v) => `'${v.name}'`).join(', ')})`);
      checkFeed(inp, t);
      // a caller's tensor is NCHW whatever it says (layout is the session's own tag)
      values.set(inp.name, t.layout ? { dtype: t.dtype, dims: t.dims, data: t.data } : t);
    }
    for (const k of Object.keys(feeds)) {
      if (!this.inputs.some((v) => v.name === k)) throw new WasmzooError('E_ARGUMENT', `onnx: '${k}' is not an input of this model (its inputs: ${this.inputs.map((v) => `'${v.name}'`).join(', ')})`);
    }
    const blocks = new Map<string, ConcatBlock>();
    try {
      for (const { node, free } of this.steps) {
        const outs = this.exec(node, values, free, blocks);
        node.outputs.forEach((y, j) => { if (y && outs[j]) values.set(y, outs[j]); });
        for (const x of free) {
          releaseResident(this.rt, values.get(x));
          values.delete(x);
        }
      }
      const result: Record<string, OnnxTensor> = {};
      for (const o of this.outputs) result[o.name] = toNchw(this.rt, values.get(o.name)!);
      return result;
    } finally {
      // values kept in arena blocks between kernels (ops/nhwc.ts): none outlives the call, thrown or not
      for (const t of values.values()) releaseResident(this.rt, t);
      for (const key of [...blocks.keys()]) releaseBlock({ rt: this.rt, constant: [], concatBlocks: blocks }, key);
    }
  }

  /** Run with wasmzoo Tensors (float32) or ONNX tensors by input name; outputs as Tensors (float32) or ONNX tensors (other dtypes). */
  run(feeds: Record<string, Tensor | OnnxTensor>): Record<string, Tensor | OnnxTensor> {
    const onnxFeeds: Record<string, OnnxTensor> = {};
    for (const [k, v] of Object.entries(feeds)) onnxFeeds[k] = v instanceof Tensor ? { dtype: 'float32', dims: [...v.shape], data: v.data } : v;
    const out = this.runTensors(onnxFeeds);
    const result: Record<string, Tensor | OnnxTensor> = {};
    for (const [k, v] of Object.entries(out)) result[k] = v.dtype === 'float32' ? new Tensor(v.data as Float32Array, v.dims) : v;
    return result;
  }

  /** A model with one input and one float output: Tensor in, Tensor out. */
  forward(x: Tensor): Tensor {
    if (this.inputs.length !== 1 || this.outputs.length < 1) {
      throw new WasmzooError('E_ARGUMENT', `onnx: forward() needs a model with one input (this one has ${this.inputs.length}: use run({ name: tensor }))`);
    }
    const y = this.run({ [this.inputs[0].name]: x })[this.outputs[0].name];
    if (!(y instanceof Tensor)) throw new WasmzooError('E_DTYPE', `onnx: output '${this.outputs[0].name}' is ${y.dtype}, not float32: use run()`);
    return y;
  }

  /** `free`: the values dropped after this step (their last reader), which a fused conv may write in place. */
  private exec(node: OpNode, values: Map<string, OnnxTensor>, free?: readonly string[], concatBlocks?: Map<string, ConcatBlock>): OnnxTensor[] {
    const inputs = node.inputs.map((x) => (x === '' ? undefined : values.get(x)));
    const constant = node.inputs.map((x) => x !== '' && this.constants.has(x));
    return runStep(node, inputs, { rt: this.rt, constant, concatBlocks }, free);
  }
}

function info(v: ValueInfo): OnnxValueInfo {
  return { name: v.name, dtype: v.dtype, shape: v.shape?.map((d) => d ?? null) };
}

function checkFeed(inp: OnnxValueInfo, t: OnnxTensor): void {
  if (!t || !Array.isArray(t.dims) || !t.data) throw new WasmzooError('E_ARGUMENT', `onnx: input '${inp.name}' must be a Tensor or { dtype, dims, data }`);
  if (inp.dtype && t.dtype !== inp.dtype) throw new WasmzooError('E_DTYPE', `onnx: input '${inp.name}' is ${inp.dtype}, got ${t.dtype}`);
  if (t.data.length !== numel(t.dims)) throw new WasmzooError('E_SHAPE', `onnx: input '${inp.name}' has dims [${t.dims.join(', ')}] but ${t.data.length} elements`);
  if (inp.shape) {
    const ok = inp.shape.length === t.dims.length && inp.shape.every((d, i) => typeof d !== 'number' || d === t.dims[i]);
    if (!ok) throw new WasmzooError('E_SHAPE', `onnx: input '${inp.name}' expects shape [${inp.shape.map((d) => d ?? '?').join(', ')}], got [${t.dims.join(', ')}]`);
  }
}

function resolveExternal(g: Graph, files: Record<string, Uint8Array> | undefined): void {
  for (const e of g.external) {
    const bytes = files?.[e.ref.location];
    if (!bytes) {
      throw new WasmzooError('E_UNSUPPORTED', `onnx: initializer '${e.name}' keeps its data in the external file '${e.ref.location}': pass its bytes as loadOnnx(source, { externalData: { '${e.ref.location}': bytes } })`);
    }
    const len = e.ref.length ?? bytes.length - e.ref.offset;
    if (e.ref.offset + len > bytes.length) throw new WasmzooError('E_ONNX', `onnx: initializer '${e.name}': external data [${e.ref.offset}, ${e.ref.offset + len}) runs past '${e.ref.location}' (${bytes.length} bytes)`);
    const n = numel(e.tensor.dims);
    const data = allocData(e.tensor.dtype, n);
    if (Array.isArray(data)) throw new WasmzooError('E_UNSUPPORTED', `onnx: initializer '${e.name}': external string data`);
    fillFromRaw(data, bytes.subarray(e.ref.offset, e.ref.offset + len), e.tensor.dtype, n, (have, field) =>
      new WasmzooError('E_ONNX', `onnx: initializer '${e.name}' of shape [${e.tensor.dims.join(', ')}] has ${have} ${field}`));
    e.tensor.data = data;
    g.initializers.push(e.tensor);
    g.initializerNames.push(e.name);
  }
}

/**
 * Load an ONNX model from bytes, a URL, a path, a Response or a Blob (as loadWeights, with its options:
 * progress, signal, sha256, cache, maxBytes) and prepare it to run on wasmzoo.
 */
export async function loadOnnx(source: ByteSource, opts: LoadOnnxOptions = {}): Promise<OnnxModel> {
  const { externalData: _externalData, ...download } = opts; // loadWeights checks its options' keys
  const bytes = source instanceof Uint8Array ? source : await loadWeights(source, download);
  await init();
  return new OnnxModel(decodeModel(bytes), runtime(), opts);
}

/** What `inspectOnnx` reports about a file. */
export interface OnnxReport {
  irVersion: number;
  producer: string;
  opset: number | null;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** Op types by count. */
  ops: Record<string, number>;
  nodes: number;
  /** Elements of all initializers. */
  parameters: number;
  /** Why wasmzoo cannot run it, one line per problem (empty when it can). */
  unsupported: string[];
}

/** Decode an ONNX file and say what is in it and whether wasmzoo runs it (no error for unsupported ops). */
export async function inspectOnnx(bytes: Uint8Array): Promise<OnnxReport> {
  const m = decodeModel(bytes);
  const g = m.graph;
  const ops: Record<string, number> = {};
  for (const n of g.nodes) ops[n.opType] = (ops[n.opType] ?? 0) + 1;
  const parameters = [...g.initializers, ...g.external.map((e) => e.tensor)].reduce((a, t) => a + numel(t.dims), 0);
  const initialized = new Set([...g.initializerNames, ...g.external.map((e) => e.name)]);
  const report: OnnxReport = {
    irVersion: m.irVersion, producer: m.producer,
    opset: m.opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? null,
    inputs: g.inputs.filter((v) => !initialized.has(v.name)).map(info), outputs: g.outputs.map(info),
    ops, nodes: g.nodes.length, parameters, unsupported: [],
  };
  try {
    await init();
    new OnnxModel(m, runtime());
  } catch (e) {
    if (!(e instanceof WasmzooError)) throw e;
    const lines = e.message.split('\n').slice(1).map((x) => x.trim());
    report.unsupported = lines.length ? lines : [e.message];
  }
  return report;
}
