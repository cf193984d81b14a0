/**
 * Graph-only ONNX files back to whole models, for tests: tools/goldens/onnx_zoo.py commits torchvision exports with
 * the data of every state_dict initializer stripped (name, dtype and dims kept), because the weights are the
 * closed-form hash of tools/hashweights.py and need not be stored. `fillHashed` gives each stripped initializer
 * raw_data = hashInto(seed, name, dims, keys), with `keys` the set of stripped names (the state dict's keys
 * minus the num_batches_tracked counters, which the export drops and no hash rule reads), and re-encodes the
 * file, so the model then loads through the public loadOnnx like any other.
 *
 * Only the ModelProto -> GraphProto -> initializer path is rewritten; every other byte is copied as it is.
 */
import { hashInto } from '../../src/models/hashweights.js';
import { ProtoReader, WIRE_LEN, WIRE_VARINT } from '../../src/onnx/protobuf.js';
import { DTYPE_BY_CODE } from '../../src/onnx/value.js';
import { varint } from './build.js';

/** TensorProto fields that carry data: float, int32, string, int64, raw, double, uint64 data and data_location. */
const DATA_FIELDS = new Set([4, 5, 6, 7, 9, 10, 11, 14]);

interface Field { field: number; bytes: Uint8Array; payload?: Uint8Array }

function cat(parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A length-delimited field: tag, length, payload. */
function lenField(field: number, payload: Uint8Array): Uint8Array {
  return cat([varint(field * 8 + WIRE_LEN), varint(payload.length), payload]);
}

/** The fields of a message, each with its encoded bytes and, for length-delimited ones, the payload. */
function fields(message: Uint8Array): Field[] {
  const r = new ProtoReader(message);
  const out: Field[] = [];
  while (!r.done) {
    const start = r.pos;
    const [field, wire] = r.tag();
    if (wire === WIRE_LEN) {
      const payload = r.bytesField();
      out.push({ field, bytes: message.subarray(start, r.pos), payload });
    } else {
      r.skip(wire);
      out.push({ field, bytes: r.bytes.subarray(start, r.pos) });
    }
  }
  return out;
}

interface Header { name: string; dims: number[]; code: number; hasData: boolean; }

function tensorHeader(tensor: Uint8Array): Header {
  const r = new ProtoReader(tensor, 0, tensor.length, 1, 'initializer');
  const h: Header = { name: '', dims: [], code: 0, hasData: false };
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1) r.repeated(w, WIRE_VARINT, () => h.dims.push(r.int()));
    else if (f === 2 && w === WIRE_VARINT) h.code = r.int();
    else if (f === 8 && w === WIRE_LEN) h.name = r.string();
    else {
      if (DATA_FIELDS.has(f)) h.hasData = true;
      r.skip(w);
    }
  }
  return h;
}

/**
 * `bytes` with every stripped float32 initializer filled with the hashed weights of `seed`; the names filled.
 * `edit` may change a tensor's values before they are written (tests that a wrong weight is caught).
 */
export function fillHashed(bytes: Uint8Array, seed: number, edit?: (name: string, values: Float32Array) => void): { bytes: Uint8Array; filled: string[] } {
  const filled: string[] = [];
  const top = fields(bytes).map((f) => {
    if (f.field !== 7 || !f.payload) return f.bytes;
    const graph = fields(f.payload);
    const stripped = new Map<Field, Header>();
    for (const g of graph) {
      if (g.field !== 5 || !g.payload) continue;
      const h = tensorHeader(g.payload);
      const n = h.dims.reduce((a, d) => a * d, 1);
      if (h.hasData || n === 0) continue;
      if (DTYPE_BY_CODE[h.code] !== 'float32') throw new Error(`initializer ${h.name}: stripped ${DTYPE_BY_CODE[h.code] ?? h.code}, only float32 is hashed`);
      stripped.set(g, h);
    }
    const keys = new Set([...stripped.values()].map((h) => h.name));
    const parts = graph.map((g) => {
      const h = stripped.get(g);
      if (!h) return g.bytes;
      const values = hashInto(new Float32Array(h.dims.reduce((a, d) => a * d, 1)), seed, h.name, h.dims, keys);
      edit?.(h.name, values);
      filled.push(h.name);
      return lenField(5, cat([g.payload!, lenField(9, new Uint8Array(values.buffer))]));
    });
    return lenField(7, cat(parts));
  });
  return { bytes: cat(top), filled };
}
