/**
 * A small protobuf wire-format reader: what decoding ONNX needs, nothing else (no schema compiler, no
 * writer, no reflection). Decision (issue 11): our own ~100 lines instead of protobufjs/minimal's Reader,
 * because ONNX files come from strangers and every read here is bounds-checked against the message it is
 * in, int64 stays exact (BigInt) without a Long dependency, and the bundle pays about 1 KB, not 6.
 *
 * Every length is checked against the bytes left before anything is read or sliced; a nesting depth cap
 * stops hostile recursion; errors are WasmzooError E_ONNX naming the field being read and the offset.
 */
import { WasmzooError } from '../index.js';

export const WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5;

export class ProtoReader {
  pos: number;
  end: number;
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array, start = 0, end = bytes.length, readonly depth = 0, readonly where = 'model') {
    this.pos = start;
    this.end = end;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (depth > 64) this.fail('messages nested more than 64 deep');
  }

  fail(what: string): never {
    throw new WasmzooError('E_ONNX', `onnx: ${this.where}: ${what} (at byte ${this.pos})`);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** The next field's number and wire type. */
  tag(): [number, number] {
    const t = this.varint();
    const field = Math.floor(t / 8), wire = t % 8;
    if (field === 0) this.fail('field number 0');
    return [field, wire];
  }

  /** A varint as a Number (exact up to 2^53; ONNX sizes and counts fit). */
  varint(): number {
    let r = 0, mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.bytes[this.pos++];
      r += (b & 0x7f) * mul;
      if (b < 0x80) return r;
      mul *= 128;
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** A varint as an exact signed int64 (two's complement, as protobuf's int64). */
  int64(): bigint {
    let r = 0n, shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.bytes[this.pos++];
      r |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asIntN(64, r);
      shift += 7n;
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** An int64 field as a Number (counts, dims, attribute ints): exact within 2^53, saturating beyond. */
  int(): number {
    return Number(this.int64());
  }

  float(): number {
    this.need(4, 'float');
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  double(): number {
    this.need(8, 'double');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A length-delimited field's bytes (a view into the file, not a copy). */
  bytesField(): Uint8Array {
    const n = this.varint();
    this.need(n, 'length-delimited field');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    return new TextDecoder().decode(this.bytesField());
  }

  /** A reader over an embedded message (one level deeper). */
  message(where: string): ProtoReader {
    const n = this.varint();
    this.need(n, where);
    const r = new ProtoReader(this.bytes, this.pos, this.pos + n, this.depth + 1, where);
    this.pos += n;
    return r;
  }

  /** Packed (wire 2) or single (wire 0/1/5) repeated scalars, by the element reader. */
  repeated(wire: number, packedWire: number, read: () => void): void {
    if (wire === WIRE_LEN) {
      const n = this.varint();
      this.need(n, 'packed field');
      const stop = this.pos + n;
      const saved = this.end;
      this.end = stop;
      try {
        while (this.pos < stop) read();
      } finally {
        this.end = saved;
      }
    } else if (wire === packedWire) read();
    else this.fail(`wire type ${wire} for a repeated field`);
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_I64) this.advance(8);
    else if (wire === WIRE_LEN) this.advance(this.varint());
    else if (wire === WIRE_I32) this.advance(4);
    else this.fail(`unsupported wire type ${wire}`);
  }

  private advance(n: number): void {
    this.need(n, 'field');
    this.pos += n;
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) this.fail(`${what} of ${n} bytes runs past the end of its message (${this.end - this.pos} left)`);
  }
}
