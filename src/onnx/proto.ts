/**
 * ONNX protobuf messages decoded into plain objects (onnx.proto3 field numbers, ONNX 1.12-1.16): ModelProto,
 * GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto and the type protos. Unknown fields are
 * skipped (newer writers), wrong wire types and anything out of bounds are E_ONNX errors
 * (src/onnx/protobuf.ts). Tensor payloads become typed arrays (src/onnx/value.ts), copied out of the file,
 * with every element count checked against the dims.
 */
import { WasmzooError } from '../index.js';
import { ProtoReader, WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT } from './protobuf.js';
import { DTYPE_BY_CODE, DTYPE_BYTES, allocData, numel, type OnnxDType, type OnnxTensor } from './value.js';

export interface OpsetId { domain: string; version: number; }

export interface ValueInfo {
  name: string;
  /** Element type, or undefined when the value is not a tensor or has no type. */
  dtype?: OnnxDType;
  /** Dims: a number, a symbolic name, or undefined for an unknown dim; undefined for an unknown rank. */
  shape?: Array<number | string | undefined>;
}

export type AttrType = 'float' | 'int' | 'string' | 'tensor' | 'graph' | 'floats' | 'ints' | 'strings' | 'tensors' | 'graphs' | 'other';

export interface Attribute {
  name: string;
  type: AttrType;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: OnnxTensor;
  g?: Graph;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  tensors?: OnnxTensor[];
  graphs?: Graph[];
}

export interface Node {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Attribute[];
}

export interface Graph {
  name: string;
  nodes: Node[];
  initializers: OnnxTensor[];
  /** Initializer names, in the order of `initializers`. */
  initializerNames: string[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  valueInfo: ValueInfo[];
  /** Initializers whose data lives in external files (resolved by the session from loadOnnx's externalData). */
  external: Array<{ name: string; tensor: OnnxTensor; ref: ExternalRef }>;
}

export interface Model {
  irVersion: number;
  producer: string;
  opsets: OpsetId[];
  graph: Graph;
  metadata: Record<string, string>;
}

/** Where external data lives, for a tensor stored outside the file. */
export interface ExternalRef { location: string; offset: number; length?: number; }

/** A decoded TensorProto: the value, its name, and where its bytes are when they are external. */
export interface TensorRecord { name: string; tensor: OnnxTensor; external?: ExternalRef; }

const ATTR_TYPES: Record<number, AttrType> = { 1: 'float', 2: 'int', 3: 'string', 4: 'tensor', 5: 'graph', 6: 'floats', 7: 'ints', 8: 'strings', 9: 'tensors', 10: 'graphs' };
/** Elements above which a tensor is refused (2^31: the wasm memory could not hold it anyway). */
const MAX_ELEMENTS = 2 ** 31;

export function decodeModel(bytes: Uint8Array): Model {
  if (!(bytes instanceof Uint8Array)) throw new WasmzooError('E_ARGUMENT', 'onnx: expected the model as bytes (Uint8Array)');
  if (bytes.length === 0) throw new WasmzooError('E_ONNX', 'onnx: the file is empty');
  const r = new ProtoReader(bytes, 0, bytes.length, 0, 'ModelProto');
  const m: Model = { irVersion: 0, producer: '', opsets: [], graph: undefined as unknown as Graph, metadata: {} };
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_VARINT) m.irVersion = r.int();
    else if (f === 2 && w === WIRE_LEN) m.producer = r.string();
    else if (f === 7 && w === WIRE_LEN) m.graph = decodeGraph(r.message('GraphProto'));
    else if (f === 8 && w === WIRE_LEN) m.opsets.push(decodeOpset(r.message('OperatorSetIdProto')));
    else if (f === 14 && w === WIRE_LEN) {
      const [k, v] = decodeEntry(r.message('metadata_props'));
      m.metadata[k] = v;
    } else r.skip(w);
  }
  if (!m.graph) throw new WasmzooError('E_ONNX', 'onnx: not an ONNX model (no graph in the ModelProto)');
  return m;
}

function decodeOpset(r: ProtoReader): OpsetId {
  const o: OpsetId = { domain: '', version: 0 };
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) o.domain = r.string();
    else if (f === 2 && w === WIRE_VARINT) o.version = r.int();
    else r.skip(w);
  }
  return o;
}

function decodeEntry(r: ProtoReader): [string, string] {
  let k = '', v = '';
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) k = r.string();
    else if (f === 2 && w === WIRE_LEN) v = r.string();
    else r.skip(w);
  }
  return [k, v];
}

export function decodeGraph(r: ProtoReader): Graph {
  const g: Graph = { name: '', nodes: [], initializers: [], initializerNames: [], inputs: [], outputs: [], valueInfo: [], external: [] };
  while (!r.done) {
    const [f, w] = r.tag();
    if (w !== WIRE_LEN) {
      r.skip(w);
      continue;
    }
    if (f === 1) g.nodes.push(decodeNode(r.message('NodeProto')));
    else if (f === 2) g.name = r.string();
    else if (f === 5) {
      const t = decodeTensor(r.message('initializer'));
      if (t.external) g.external.push({ name: t.name, tensor: t.tensor, ref: t.external });
      else {
        g.initializers.push(t.tensor);
        g.initializerNames.push(t.name);
      }
    } else if (f === 11) g.inputs.push(decodeValueInfo(r.message('input')));
    else if (f === 12) g.outputs.push(decodeValueInfo(r.message('output')));
    else if (f === 13) g.valueInfo.push(decodeValueInfo(r.message('value_info')));
    else r.skip(w);
  }
  return g;
}

function decodeNode(r: ProtoReader): Node {
  const n: Node = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: [] };
  while (!r.done) {
    const [f, w] = r.tag();
    if (w !== WIRE_LEN) {
      r.skip(w);
      continue;
    }
    if (f === 1) n.inputs.push(r.string());
    else if (f === 2) n.outputs.push(r.string());
    else if (f === 3) n.name = r.string();
    else if (f === 4) n.opType = r.string();
    else if (f === 7) n.domain = r.string();
    else if (f === 5) n.attributes.push(decodeAttribute(r.message('AttributeProto')));
    else r.skip(w);
  }
  return n;
}

function decodeAttribute(r: ProtoReader): Attribute {
  const a: Attribute = { name: '', type: 'other' };
  let code = 0;
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) a.name = r.string();
    else if (f === 20 && w === WIRE_VARINT) code = r.int();
    else if (f === 2 && w === WIRE_I32) a.f = r.float();
    else if (f === 3 && w === WIRE_VARINT) a.i = r.int();
    else if (f === 4 && w === WIRE_LEN) a.s = r.bytesField().slice();
    else if (f === 5 && w === WIRE_LEN) a.t = decodeInlineTensor(r.message('attribute tensor'));
    else if (f === 6 && w === WIRE_LEN) a.g = decodeGraph(r.message('attribute graph'));
    else if (f === 7) r.repeated(w, WIRE_I32, () => (a.floats ??= []).push(r.float()));
    else if (f === 8) r.repeated(w, WIRE_VARINT, () => (a.ints ??= []).push(r.int()));
    else if (f === 9 && w === WIRE_LEN) (a.strings ??= []).push(r.bytesField().slice());
    else if (f === 10 && w === WIRE_LEN) (a.tensors ??= []).push(decodeInlineTensor(r.message('attribute tensors')));
    else if (f === 11 && w === WIRE_LEN) (a.graphs ??= []).push(decodeGraph(r.message('attribute graphs')));
    else r.skip(w);
  }
  a.type = ATTR_TYPES[code] ?? inferAttrType(a);
  return a;
}

/** Old writers (ONNX < 1.1) leave `type` out: take it from the field that is set. */
function inferAttrType(a: Attribute): AttrType {
  if (a.f !== undefined) return 'float';
  if (a.i !== undefined) return 'int';
  if (a.s !== undefined) return 'string';
  if (a.t !== undefined) return 'tensor';
  if (a.g !== undefined) return 'graph';
  if (a.floats) return 'floats';
  if (a.ints) return 'ints';
  if (a.strings) return 'strings';
  return 'other';
}

function decodeInlineTensor(r: ProtoReader): OnnxTensor {
  const t = decodeTensor(r);
  if (t.external) throw new WasmzooError('E_UNSUPPORTED', `onnx: tensor '${t.name}' in an attribute keeps its data externally`);
  return t.tensor;
}

function decodeValueInfo(r: ProtoReader): ValueInfo {
  const v: ValueInfo = { name: '' };
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) v.name = r.string();
    else if (f === 2 && w === WIRE_LEN) decodeType(r.message('TypeProto'), v);
    else r.skip(w);
  }
  return v;
}

function decodeType(r: ProtoReader, v: ValueInfo): void {
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) {
      const t = r.message('TypeProto.Tensor');
      while (!t.done) {
        const [tf, tw] = t.tag();
        if (tf === 1 && tw === WIRE_VARINT) v.dtype = DTYPE_BY_CODE[t.int()];
        else if (tf === 2 && tw === WIRE_LEN) {
          v.shape = [];
          const s = t.message('TensorShapeProto');
          while (!s.done) {
            const [sf, sw] = s.tag();
            if (sf === 1 && sw === WIRE_LEN) {
              const d = s.message('Dimension');
              let dim: number | string | undefined;
              while (!d.done) {
                const [df, dw] = d.tag();
                if (df === 1 && dw === WIRE_VARINT) dim = d.int();
                else if (df === 2 && dw === WIRE_LEN) dim = d.string() || undefined;
                else d.skip(dw);
              }
              v.shape.push(dim);
            } else s.skip(sw);
          }
        } else t.skip(tw);
      }
    } else r.skip(w);
  }
}

/** A TensorProto: dims, data type and payload (raw_data or the typed fields), or where external data is. */
export function decodeTensor(r: ProtoReader): TensorRecord {
  const dims: number[] = [];
  let code = 0, name = '', raw: Uint8Array | undefined, location = 0;
  const floats: number[] = [], doubles: number[] = [], int32s: number[] = [], strings: Uint8Array[] = [];
  const int64s: bigint[] = [], uint64s: bigint[] = [];
  const ext: Record<string, string> = {};
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1) r.repeated(w, WIRE_VARINT, () => dims.push(r.int()));
    else if (f === 2 && w === WIRE_VARINT) code = r.int();
    else if (f === 4) r.repeated(w, WIRE_I32, () => floats.push(r.float()));
    else if (f === 5) r.repeated(w, WIRE_VARINT, () => int32s.push(r.int()));
    else if (f === 6 && w === WIRE_LEN) strings.push(r.bytesField());
    else if (f === 7) r.repeated(w, WIRE_VARINT, () => int64s.push(r.int64()));
    else if (f === 8 && w === WIRE_LEN) name = r.string();
    else if (f === 9 && w === WIRE_LEN) raw = r.bytesField();
    else if (f === 10) r.repeated(w, WIRE_I64, () => doubles.push(r.double()));
    else if (f === 11) r.repeated(w, WIRE_VARINT, () => uint64s.push(BigInt.asUintN(64, r.int64())));
    else if (f === 13 && w === WIRE_LEN) {
      const [k, v] = decodeEntry(r.message('external_data'));
      ext[k] = v;
    } else if (f === 14 && w === WIRE_VARINT) location = r.int();
    else r.skip(w);
  }
  const what = name ? `tensor '${name}'` : 'a tensor';
  const dtype = DTYPE_BY_CODE[code];
  if (!dtype) throw new WasmzooError(code === 0 ? 'E_ONNX' : 'E_UNSUPPORTED', `onnx: ${what} has data type ${code}, which wasmzoo does not read`);
  for (const d of dims) if (!Number.isInteger(d) || d < 0) throw new WasmzooError('E_ONNX', `onnx: ${what} has a bad dim ${d} in [${dims.join(', ')}]`);
  const n = numel(dims);
  if (n > MAX_ELEMENTS) throw new WasmzooError('E_ONNX', `onnx: ${what} of shape [${dims.join(', ')}] has ${n} elements, more than 2^31`);
  if (location === 1) {
    const offset = Number(ext.offset ?? 0), length = ext.length !== undefined ? Number(ext.length) : undefined;
    if (!ext.location || !Number.isInteger(offset) || offset < 0 || (length !== undefined && !(Number.isInteger(length) && length >= 0))) {
      throw new WasmzooError('E_ONNX', `onnx: ${what} has malformed external_data (${JSON.stringify(ext)})`);
    }
    return { name, tensor: { dtype, dims, data: allocData(dtype, 0) }, external: { location: ext.location, offset, length } };
  }
  const data = allocData(dtype, n);
  const bad = (have: number, field: string) =>
    new WasmzooError('E_ONNX', `onnx: ${what} of shape [${dims.join(', ')}] (${n} ${dtype} elements) has ${have} in ${field}`);
  if (dtype === 'string') {
    if (strings.length !== n) throw bad(strings.length, 'string_data');
    const dec = new TextDecoder();
    for (let i = 0; i < n; i++) (data as string[])[i] = dec.decode(strings[i]);
  } else if (raw !== undefined) {
    fillFromRaw(data as Exclude<typeof data, string[]>, raw, dtype, n, bad);
  } else {
    const src: ArrayLike<number | bigint> =
      dtype === 'float32' ? floats : dtype === 'float64' ? doubles : dtype === 'int64' ? int64s
        : dtype === 'uint32' || dtype === 'uint64' ? (uint64s.length ? uint64s : int32s) : int32s;
    const field = dtype === 'float32' ? 'float_data' : dtype === 'float64' ? 'double_data' : dtype === 'int64' ? 'int64_data' : dtype === 'uint32' || dtype === 'uint64' ? 'uint64_data' : 'int32_data';
    if (src.length !== n) throw bad(src.length, field);
    const d = data as unknown as { [i: number]: number | bigint };
    const big = dtype === 'int64' || dtype === 'uint64';
    for (let i = 0; i < n; i++) d[i] = big ? BigInt(src[i]) : Number(src[i]);
  }
  return { name, tensor: { dtype, dims, data } };
}

/** Copy raw little-endian bytes into the typed array (byte count checked). */
export function fillFromRaw(data: Exclude<OnnxTensor['data'], string[]>, raw: Uint8Array, dtype: OnnxDType, n: number,
  bad: (have: number, field: string) => Error): void {
  const size = DTYPE_BYTES[dtype];
  if (raw.length !== n * size) throw bad(raw.length, `raw_data bytes (want ${n * size})`);
  // copy into an aligned buffer: raw_data sits at any offset of the file
  new Uint8Array(data.buffer, data.byteOffset, n * size).set(raw);
}
