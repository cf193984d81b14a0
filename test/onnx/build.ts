/**
 * A tiny ONNX writer for tests: ModelProto bytes from plain descriptions (nodes, initializers, inputs with
 * symbolic dims, external data), so session behaviour is tested on models written here, not committed files.
 * Field numbers as in onnx.proto3 (src/onnx/proto.ts reads the same ones).
 */
import { CODE_BY_DTYPE, type OnnxDType } from '../../src/onnx/value.js';

type Part = number[] | Uint8Array;

/** Protobuf varint (unsigned LEB128; negative int64 as its 64-bit two's complement). */
export function varint(n: number | bigint): number[] {
  let x = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x > 0n) b |= 0x80;
    out.push(b);
  } while (x > 0n);
  return out;
}
const cat = (parts: Part[]) => {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const key = (field: number, wire: number) => varint(field * 8 + wire);
const int = (field: number, v: number | bigint): Part[] => [key(field, 0), varint(v)];
const bytes = (field: number, b: Uint8Array): Part[] => [key(field, 2), varint(b.length), b];
const str = (field: number, s: string) => bytes(field, new TextEncoder().encode(s));
const msg = (field: number, parts: Part[]) => bytes(field, cat(parts));
const f32 = (field: number, v: number): Part[] => [key(field, 5), new Uint8Array(new Float32Array([v]).buffer)];

export interface TensorSpec { name: string; dtype?: OnnxDType; dims: number[]; values?: number[]; external?: { location: string; offset: number; length: number } }
export interface NodeSpec { op: string; inputs: string[]; outputs: string[]; name?: string; domain?: string; attrs?: Record<string, number | number[] | string | TensorSpec | { float: number }> }
export interface ValueSpec { name: string; dtype?: OnnxDType; shape?: Array<number | string> }
export interface ModelSpec { opset?: number; nodes: NodeSpec[]; inputs: ValueSpec[]; outputs: ValueSpec[]; initializers?: TensorSpec[] }

function tensorParts(t: TensorSpec): Part[] {
  const dtype = t.dtype ?? 'float32';
  const parts: Part[] = [...t.dims.flatMap((d) => int(1, d)), ...int(2, CODE_BY_DTYPE[dtype]), ...str(8, t.name)];
  if (t.external) {
    parts.push(...msg(13, [...str(1, 'location'), ...str(2, t.external.location)]));
    parts.push(...msg(13, [...str(1, 'offset'), ...str(2, String(t.external.offset))]));
    parts.push(...msg(13, [...str(1, 'length'), ...str(2, String(t.external.length))]));
    parts.push(...int(14, 1));
  } else if (dtype === 'int64') parts.push(...bytes(9, new Uint8Array(new BigInt64Array((t.values ?? []).map((v) => BigInt(v))).buffer)));
  else parts.push(...bytes(9, new Uint8Array(new Float32Array(t.values ?? []).buffer)));
  return parts;
}

function valueParts(v: ValueSpec): Part[] {
  const dims = (v.shape ?? []).map((d) => msg(1, typeof d === 'number' ? int(1, d) : str(2, d)));
  const tensorType = [...int(1, CODE_BY_DTYPE[v.dtype ?? 'float32']), ...(v.shape ? msg(2, dims.flat()) : [])];
  return [...str(1, v.name), ...msg(2, msg(1, tensorType))];
}

function attrParts(name: string, v: NonNullable<NodeSpec['attrs']>[string]): Part[] {
  const head = str(1, name);
  if (typeof v === 'number') return [...head, ...int(20, 2), ...int(3, v)];
  if (typeof v === 'string') return [...head, ...int(20, 3), ...str(4, v)];
  if (Array.isArray(v)) return [...head, ...int(20, 7), ...v.flatMap((x) => int(8, x))];
  if ('float' in v) return [...head, ...int(20, 1), ...f32(2, v.float)];
  return [...head, ...int(20, 4), ...msg(5, tensorParts(v))];
}

/** ModelProto bytes for `spec` (IR 8, default-domain opset `spec.opset`, default 13). */
export function onnxModel(spec: ModelSpec): Uint8Array {
  const graph: Part[] = [
    ...spec.nodes.flatMap((n, i) => msg(1, [
      ...n.inputs.flatMap((x) => str(1, x)), ...n.outputs.flatMap((y) => str(2, y)), ...str(3, n.name ?? `n${i}`), ...str(4, n.op),
      ...(n.domain ? str(7, n.domain) : []), ...Object.entries(n.attrs ?? {}).flatMap(([k, v]) => msg(5, attrParts(k, v))),
    ])),
    ...str(2, 'test'),
    ...(spec.initializers ?? []).flatMap((t) => msg(5, tensorParts(t))),
    ...spec.inputs.flatMap((v) => msg(11, valueParts(v))),
    ...spec.outputs.flatMap((v) => msg(12, valueParts(v))),
  ];
  return cat([...int(1, 8), ...str(2, 'wasmzoo-test'), ...msg(7, graph), ...msg(8, [...str(1, ''), ...int(2, spec.opset ?? 13)])]);
}
