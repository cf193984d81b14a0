/**
 * The contract between the ONNX session (src/onnx/session.ts) and the op implementations (src/onnx/ops/*):
 * an op is an OpSpec registered under its op_type. `check` runs at load for every node (all problems are
 * listed at once, E_UNSUPPORTED, with node names); `run` computes the outputs from the inputs.
 * Tensors are OnnxTensor (src/onnx/value.ts): row-major, NCHW as in ONNX; missing optional inputs (empty
 * names) arrive as undefined.
 */
import { WasmzooError, type Runtime } from '../../index.js';
import type { Attribute } from '../proto.js';
import type { OnnxTensor } from '../value.js';

/** A node's attributes by name, with typed getters that fall back to ONNX's defaults. */
export class Attrs {
  private readonly map = new Map<string, Attribute>();
  constructor(list: readonly Attribute[], private readonly where: string) {
    for (const a of list) this.map.set(a.name, a);
  }
  has(name: string): boolean {
    return this.map.has(name);
  }
  names(): string[] {
    return [...this.map.keys()];
  }
  private get(name: string, type: Attribute['type']): Attribute | undefined {
    const a = this.map.get(name);
    if (a && a.type !== type) throw new WasmzooError('E_ONNX', `onnx: ${this.where}: attribute '${name}' is ${a.type}, expected ${type}`);
    return a;
  }
  int(name: string, dflt: number): number;
  int(name: string): number | undefined;
  int(name: string, dflt?: number): number | undefined {
    return this.get(name, 'int')?.i ?? dflt;
  }
  float(name: string, dflt: number): number;
  float(name: string): number | undefined;
  float(name: string, dflt?: number): number | undefined {
    return this.get(name, 'float')?.f ?? dflt;
  }
  string(name: string, dflt: string): string;
  string(name: string): string | undefined;
  string(name: string, dflt?: string): string | undefined {
    const s = this.get(name, 'string')?.s;
    return s ? new TextDecoder().decode(s) : dflt;
  }
  ints(name: string): number[] | undefined {
    const a = this.get(name, 'ints');
    return a ? (a.ints ?? []) : undefined;
  }
  floats(name: string): number[] | undefined {
    const a = this.get(name, 'floats');
    return a ? (a.floats ?? []) : undefined;
  }
  strings(name: string): string[] | undefined {
    const a = this.get(name, 'strings');
    return a ? (a.strings ?? []).map((s) => new TextDecoder().decode(s)) : undefined;
  }
  tensor(name: string): OnnxTensor | undefined {
    return this.get(name, 'tensor')?.t;
  }
}

export interface OpNode {
  /** The node's name, or `<op_type> #<index>` when it has none (for messages). */
  name: string;
  opType: string;
  /** The default domain's opset the model imports (11..18 supported). */
  opset: number;
  attrs: Attrs;
  inputs: string[];
  outputs: string[];
  /** Set by the session's fusion pass (src/onnx/fuse.ts) on a node that stands for several: see Fusion. */
  fused?: Fusion;
  /**
   * Set by the session's layout pass: every reader of this node's output accepts NHWC data, so a rank-4
   * float32 output may stay NHWC (OnnxTensor.layout) rather than be transposed back to NCHW.
   */
  nhwcOut?: boolean;
  /**
   * Set by the session's concat pass on a Conv whose only reader is a channel Concat: the conv writes its
   * output into channels offset .. offset+OC-1 of that Concat's block (`key`: the Concat's output name,
   * `total`: its channel count), so the Concat copies nothing (GoogLeNet's inception blocks, as the zoo's).
   */
  concatSlot?: { key: string; offset: number; total: number };
  /** Set by the concat pass on a Concat whose inputs all come from such convs. */
  concatInPlace?: boolean;
}

/**
 * A Conv (or Gemm / MatMul) with what followed it folded into the kernel's epilogue: `nodes` are the original
 * nodes in order (the first is the conv / gemm, whose name and opType the fused node keeps; the others name
 * what was folded, for messages), `act`/`alpha` the kernels' activation code (src/runtime/activation.ts) and
 * parameter, and `residual` the input index of a tensor of the output's shape that is added before the
 * activation (a residual Add, run as the kernels' accumulate).
 */
export interface Fusion {
  nodes: OpNode[];
  act: number;
  alpha: number;
  residual?: number;
}

export interface OpContext {
  /** The wasmzoo runtime, for ops that run on the kernels (its arena, `rt.k`). */
  rt: Runtime;
  /**
   * Per input: whether it is a load-time constant (an initializer or a folded value), which ops may cache
   * derived forms of (packed weights). Graph inputs may change, even in place, between calls.
   */
  constant: readonly boolean[];
  /**
   * Per call: the blocks in-place Concats gather their inputs in, by the Concat's output name (the first conv
   * to run allocates it; the Concat hands it on as its output; the session releases what a throw left).
   */
  concatBlocks?: Map<string, ConcatBlock>;
}

/** A Concat's output block while its convs fill it: NHWC [n, h, w, total] at ptr. */
export interface ConcatBlock { ptr: number; n: number; h: number; w: number; total: number; }

export interface OpSpec {
  /** Why this node cannot run (an unsupported attribute value, dtype, rank...); undefined when it can. */
  check?(node: OpNode): string | undefined;
  run(node: OpNode, inputs: ReadonlyArray<OnnxTensor | undefined>, ctx: OpContext): OnnxTensor[];
}

export type OpTable = Record<string, OpSpec>;

/** An E_ONNX / E_SHAPE style error naming the node. */
export function opError(node: OpNode, message: string): WasmzooError {
  return new WasmzooError('E_ONNX', `onnx: ${node.opType} '${node.name}': ${message}`);
}
