// Safetensors reader/writer: one malformed file per rule (code + culprit named), round trips for every dtype,
// half/bfloat16/fp8 conversion tables, and PyTorch-written fixtures (tools/gen_safetensors_fixtures.py).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WasmzooError } from '../../src/errors.js';
import {
  DTYPES,
  DTYPE_SIZE,
  MAX_HEADER_DEPTH,
  MAX_HEADER_SIZE,
  readSafetensors,
  tensorToFloat32,
  writeSafetensors,
  type Dtype,
  type SafetensorsInput,
} from '../../src/io/safetensors.js';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, f8e4m3ToF32, f8e5m2ToF32 } from '../../src/io/dtype.js';

const enc = new TextEncoder();

/** A file from raw header text (kept verbatim, so duplicate keys survive) and a data buffer. */
function file(header: string, data: number | Uint8Array = 0, opts: { pad?: boolean; n?: bigint } = {}): Uint8Array {
  let h = enc.encode(header);
  if (opts.pad ?? true) {
    const padded = new Uint8Array(Math.ceil(h.length / 8) * 8).fill(0x20);
    padded.set(h);
    h = padded;
  }
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setBigUint64(0, opts.n ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}

const T = (dtype: string, shape: number[], begin: number, end: number) =>
  JSON.stringify({ dtype, shape, data_offsets: [begin, end] });

/** Asserts a WasmzooError with `code` whose message matches every pattern. */
function rejects(fn: () => unknown, code: string, ...patterns: (string | RegExp)[]): WasmzooError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a throw').toBeInstanceOf(WasmzooError);
  const w = err as WasmzooError;
  expect(w.code).toBe(code);
  for (const p of patterns) expect(w.message).toMatch(typeof p === 'string' ? new RegExp(escapeRe(p)) : p);
  return w;
}
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const bad = (bytes: Uint8Array, ...patterns: (string | RegExp)[]) => rejects(() => readSafetensors(bytes), 'E_SAFETENSORS', ...patterns);

describe('readSafetensors: length field', () => {
  it('refuses files shorter than 8 bytes', () => {
    for (let n = 0; n < 8; n++) bad(new Uint8Array(n), `file is ${n} bytes`, '8-byte');
  });

  it('refuses a header length above 100 MB without allocating it', () => {
    const f = file('{}', 0, { n: BigInt(MAX_HEADER_SIZE + 1) });
    // refused by the limit check itself (the message names the limit), before any read or allocation
    bad(f, 'header length 100000001 exceeds the 100000000-byte limit', `file is ${f.length} bytes`);
    bad(file('{}', 0, { n: (1n << 64n) - 1n }), 'header length 18446744073709551615 exceeds');
    bad(file('{}', 0, { n: 1n << 53n }), `header length ${2 ** 53} exceeds`);
  });

  it('refuses a header length past the end of the file, naming both sizes', () => {
    bad(file('{}', 0, { n: BigInt(MAX_HEADER_SIZE) }), 'header length 100000000 exceeds the file size 16');
    bad(file('{}', 0, { n: 9n }), 'header length 9 exceeds the file size 16');
  });
});

describe('readSafetensors: header text', () => {
  it('refuses invalid UTF-8', () => {
    const f = file('{"a\u00e9":' + T('U8', [0], 0, 0) + '}');
    const at = f.indexOf(0xc3);
    f[at + 1] = 0x28; // broken 2-byte sequence
    bad(f, 'not valid UTF-8', `at file offset ${at}`);
    bad(file('{}').fill(0xff, 8, 9), 'not valid UTF-8', 'at file offset 8');
    for (const seq of [[0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]]) {
      const g = file('{"__metadata__":{"k":"' + 'x'.repeat(seq.length) + '"}}');
      const k = g.indexOf(0x78);
      g.set(seq, k);
      bad(g, 'not valid UTF-8', `at file offset ${k}`); // overlong, surrogate, > U+10FFFF, 5-byte, truncated
    }
  });

  it('keeps a BOM so the JSON is refused, like the reference', () => {
    bad(file('\ufeff{}'), 'not valid JSON');
  });

  it('refuses invalid JSON, trailing garbage and NUL padding', () => {
    bad(file('{'), 'not valid JSON');
    bad(file('{}x'), 'not valid JSON');
    bad(file('', 0, { pad: false }), 'header (0 bytes) is not valid JSON');
    const nul = file('{}', 0, { pad: false });
    bad(file('{}\0\0\0\0\0\0'), 'not valid JSON');
    expect(readSafetensors(nul).names).toEqual([]);
  });

  it('refuses a header that is not an object', () => {
    bad(file('[]'), 'must be a JSON object, got an array');
    bad(file('null'), 'got null');
    bad(file('3'), 'got number');
    bad(file('"x"'), 'got string');
  });

  it('accepts JSON whitespace around the object and space padding', () => {
    const f = readSafetensors(file(' \n\t{ "a" : ' + T('U8', [2], 0, 2) + ' }\r\n    ', 2));
    expect(f.names).toEqual(['a']);
  });

  it('refuses duplicate tensor names (JSON.parse would keep the last)', () => {
    const e = T('U8', [1], 0, 1);
    bad(file(`{"w":${e},"w":${T('U8', [1], 1, 2)}}`, 2), 'duplicate tensor name "w"');
    bad(file(`{"w":${e},"\\u0077":${T('U8', [1], 1, 2)}}`, 2), 'duplicate tensor name "w"');
  });

  it('refuses duplicate keys inside an entry and in __metadata__, and a second __metadata__', () => {
    bad(file('{"w":{"dtype":"U8","dtype":"I8","shape":[1],"data_offsets":[0,1]}}', 1), 'tensor "w": duplicate key "dtype"');
    bad(file('{"__metadata__":{"k":"a","k":"b"}}'), '__metadata__: duplicate key "k"');
    bad(file('{"__metadata__":{},"__metadata__":{}}'), 'duplicate "__metadata__"');
  });

  it('refuses number literals that are not plain non-negative integers', () => {
    bad(file(`{"w":{"dtype":"U8","shape":[2.0],"data_offsets":[0,2]}}`, 2), 'tensor "w": number 2.0');
    bad(file(`{"w":{"dtype":"U8","shape":[1e1],"data_offsets":[0,10]}}`, 10), 'tensor "w": number 1e1');
    bad(file(`{"w":{"dtype":"U8","shape":[-0],"data_offsets":[0,0]}}`), 'tensor "w": number -0');
    bad(file(`{"w":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}`), 'tensor "w": number -1');
  });

  it('refuses lone surrogates in names and metadata', () => {
    bad(file(`{"a\\ud800":${T('U8', [0], 0, 0)}}`), 'lone UTF-16 surrogate');
    bad(file(`{"__metadata__":{"k":"\\udc00"}}`), '__metadata__["k"]', 'surrogate');
  });
});

describe('readSafetensors: nesting depth (checked before JSON.parse)', () => {
  const nested = (depth: number) => `{"w":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;

  it('accepts nesting up to MAX_HEADER_DEPTH (128) and refuses 129, naming the depth and the byte offset', () => {
    expect(MAX_HEADER_DEPTH).toBe(128);
    // depth 128 passes the depth scan and fails later, on the entry
    bad(file(nested(128)), 'tensor "w": entry must be an object');
    bad(file(nested(129)), 'header nests deeper than 128 levels', 'at file offset 140');
    bad(file(`{"__metadata__":${'{"a":'.repeat(128)}1${'}'.repeat(128)}}`), 'deeper than 128');
  });

  it('does not count brackets inside strings (names and metadata may hold any text)', () => {
    const name = `[{\\"${'['.repeat(300)}`;
    const f = readSafetensors(file(`{"__metadata__":{"k":"${'{'.repeat(300)}"},"${name}":${T('U8', [1], 0, 1)}}`, 1));
    expect(f.names).toEqual([`[{"${'['.repeat(300)}`]);
    expect(f.metadata.k).toBe('{'.repeat(300));
  });

  it('refuses a 100 MB header of "[" in well under a second, without parsing it', () => {
    const h = new Uint8Array(MAX_HEADER_SIZE).fill(0x5b);
    const b = new Uint8Array(8 + h.length);
    new DataView(b.buffer).setBigUint64(0, BigInt(h.length), true);
    b.set(h, 8);
    const t0 = performance.now();
    bad(b, 'header nests deeper than 128 levels', 'at file offset 136');
    // JSON.parse took 38 s and 4.8 GB here; the scan stops at byte 129. The bound is loose (shared machines).
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe('readSafetensors: metadata', () => {
  it('reads string -> string metadata into a prototype-free object', () => {
    const f = readSafetensors(file('{"__metadata__":{"format":"pt","__proto__":"x"}}'));
    expect(f.metadata.format).toBe('pt');
    expect(Object.getPrototypeOf(f.metadata)).toBe(null);
    expect(Object.keys(f.metadata)).toEqual(['format', '__proto__']);
    expect(f.metadata['__proto__']).toBe('x');
    expect(Object.keys(readSafetensors(file('{}')).metadata)).toEqual([]);
  });

  it('refuses non-object metadata and non-string values, naming the key', () => {
    bad(file('{"__metadata__":null}'), '__metadata__ must be an object', 'got null');
    bad(file('{"__metadata__":["a"]}'), '__metadata__ must be an object');
    bad(file('{"__metadata__":"pt"}'), '__metadata__ must be an object');
    bad(file('{"__metadata__":{"epoch":3}}'), '__metadata__["epoch"] must be a string, got 3');
    bad(file('{"__metadata__":{"x":null}}'), '__metadata__["x"] must be a string, got null');
  });
});

describe('readSafetensors: entries', () => {
  it('refuses an entry that is not an object', () => {
    bad(file('{"w":[1,2]}'), 'tensor "w": entry must be an object');
    bad(file('{"w":"F32"}'), 'tensor "w": entry must be an object');
    bad(file('{"w":null}'), 'tensor "w": entry must be an object');
  });

  it('refuses unknown and missing keys', () => {
    bad(file('{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"offsets":[0,1]}}', 1), 'tensor "w": unknown key "offsets"');
    bad(file('{"w":{"dtype":"U8","shape":[1]}}', 1), 'tensor "w": missing "data_offsets"');
    bad(file('{"w":{"shape":[1],"data_offsets":[0,1]}}', 1), 'tensor "w": missing "dtype"');
    bad(file('{"w":{"dtype":"U8","data_offsets":[0,1]}}', 1), 'tensor "w": missing "shape"');
  });

  it('refuses an unknown dtype by name, and non-string dtypes', () => {
    bad(file(`{"w":${T('F12', [1], 0, 1)}}`, 1), 'tensor "w": unknown dtype "F12"');
    bad(file(`{"w":${T('f32', [1], 0, 4)}}`, 4), 'tensor "w": unknown dtype "f32"');
    bad(file(`{"w":${T('float32', [1], 0, 4)}}`, 4), 'unknown dtype "float32"');
    bad(file('{"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}', 4), 'tensor "w": dtype must be a string, got 4');
  });

  it('refuses bad shapes, naming the dimension', () => {
    bad(file('{"w":{"dtype":"U8","shape":3,"data_offsets":[0,3]}}', 3), 'tensor "w": shape must be an array');
    bad(file('{"w":{"dtype":"U8","shape":["3"],"data_offsets":[0,3]}}', 3), 'tensor "w": shape[0] must be a non-negative safe integer, got "3"');
    bad(file('{"w":{"dtype":"U8","shape":[1,null],"data_offsets":[0,1]}}', 1), 'shape[1]', 'got null');
    bad(file('{"w":{"dtype":"U8","shape":[9007199254740993],"data_offsets":[0,1]}}', 1), 'tensor "w": shape[0]');
  });

  it('refuses bad data_offsets', () => {
    bad(file('{"w":{"dtype":"U8","shape":[1],"data_offsets":[0]}}', 1), 'tensor "w": data_offsets must be [begin, end]');
    bad(file('{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}', 2), 'tensor "w": data_offsets must be [begin, end]');
    bad(file('{"w":{"dtype":"U8","shape":[1],"data_offsets":{"0":0,"1":1}}}', 1), 'tensor "w": data_offsets must be [begin, end]');
    bad(file('{"w":{"dtype":"U8","shape":[1],"data_offsets":["0",1]}}', 1), 'tensor "w": data_offsets must be two non-negative');
    bad(file(`{"w":${T('U8', [0], 2, 1)}}`, 2), 'tensor "w": data_offsets [2, 1] end before they begin');
  });

  it('refuses a shape x dtype size that does not match the offsets, naming tensor, shape and dtype', () => {
    bad(file(`{"conv1.weight":${T('F32', [6, 1, 5, 5], 0, 596)}}`, 596), 'safetensors: tensor "conv1.weight": shape [6,1,5,5] x F32 needs 600 bytes but data_offsets span 596');
    bad(file(`{"s":${T('I64', [], 0, 4)}}`, 4), 'tensor "s": shape [] x I64 needs 8 bytes but data_offsets span 4');
  });

  it('refuses u64 overflow of element and byte counts, like the reference checked_mul', () => {
    const big = 2 ** 32;
    bad(file(`{"w":${T('U8', [big, big, 2], 0, 0)}}`), 'tensor "w": shape [4294967296,4294967296,2] overflows a u64 element count');
    bad(file(`{"w":${T('F32', [big, big / 2], 0, 0)}}`), 'tensor "w": shape [4294967296,2147483648] x F32 overflows a u64 byte count');
    // Exactly 2^64 - 1 elements of 1 byte is not an overflow, only a size mismatch.
    bad(file(`{"w":${T('U8', [big - 1, big + 1], 0, 0)}}`), 'needs 18446744073709551615 bytes but data_offsets span 0');
  });
});

describe('readSafetensors: layout of the data buffer', () => {
  it('refuses a first tensor that does not start at 0', () => {
    bad(file(`{"w":${T('U8', [2], 2, 4)}}`, 4), 'tensor "w": data_offsets [2, 4] begin at 2 but the data buffer starts at 0 (a hole of 2 bytes)');
  });

  it('refuses holes and overlaps, naming both tensors', () => {
    bad(file(`{"a":${T('U8', [2], 0, 2)},"b":${T('U8', [2], 3, 5)}}`, 5), 'tensor "b": data_offsets [3, 5] begin at 3 but the previous tensor "a" ends at 2 (a hole of 1 bytes)');
    bad(file(`{"a":${T('U8', [4], 0, 4)},"b":${T('U8', [2], 2, 4)}}`, 4), 'tensor "b"', 'previous tensor "a" ends at 4 (an overlap of 2 bytes)');
    bad(file(`{"a":${T('U8', [2], 0, 2)},"b":${T('U8', [2], 0, 2)}}`, 2), 'an overlap of 2 bytes');
  });

  it('refuses a last tensor that does not end at the end of the file', () => {
    bad(file(`{"a":${T('U8', [2], 0, 2)}}`, 3), 'data buffer is 3 bytes', 'the last tensor "a" ends at 2 (1 trailing bytes)');
    bad(file(`{"a":${T('U8', [4], 0, 4)}}`, 3), 'data buffer is 3 bytes', 'the last tensor "a" ends at 4');
    bad(file('{}', 1), 'data buffer is 1 bytes', 'no tensors');
  });

  it('sorts by offsets whatever the header order; empty tensors may share an offset', () => {
    const f = readSafetensors(file(`{"z":${T('U8', [2], 0, 2)},"e2":${T('F32', [0, 4], 2, 2)},"a":${T('I16', [1], 2, 4)},"e1":${T('U8', [0], 2, 2)}}`, 4));
    expect(f.names).toEqual(['z', 'e1', 'e2', 'a']);
    expect(f.get('a').dataOffsets).toEqual([2, 4]);
    expect(f.get('e2').shape).toEqual([0, 4]);
    expect(f.toFloat32('e2').length).toBe(0);
  });

  it('gives views into the caller buffer, also for a Uint8Array at a non-zero offset and an ArrayBuffer', () => {
    const inner = file(`{"a":${T('U8', [3], 0, 3)}}`, new Uint8Array([7, 8, 9]));
    const outer = new Uint8Array(inner.length + 5);
    outer.set(inner, 3);
    const f = readSafetensors(outer.subarray(3, 3 + inner.length));
    const t = f.get('a');
    expect(t.bytes.buffer).toBe(outer.buffer);
    expect([...t.bytes]).toEqual([7, 8, 9]);
    expect([...readSafetensors(inner.slice().buffer).get('a').bytes]).toEqual([7, 8, 9]);
  });

  it('throws E_ARGUMENT for a missing name and for non-byte input', () => {
    const f = readSafetensors(file(`{"a":${T('U8', [1], 0, 1)}}`, 1));
    expect(f.has('a')).toBe(true);
    rejects(() => f.get('b'), 'E_ARGUMENT', 'no tensor named "b"', '"a"');
    rejects(() => readSafetensors('abc' as unknown as Uint8Array), 'E_ARGUMENT');
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('conversion tables', () => {
  it('f16 -> f32 is exact for zeros, subnormals, normals, max, infinities and NaN', () => {
    const table: [number, number][] = [
      [0x0000, 0],
      [0x0001, 2 ** -24],
      [0x0002, 2 ** -23],
      [0x03ff, 1023 * 2 ** -24],
      [0x0400, 2 ** -14],
      [0x3555, 0.333251953125],
      [0x3bff, 1 - 2 ** -11],
      [0x3c00, 1],
      [0x3c01, 1 + 2 ** -10],
      [0x4000, 2],
      [0xc000, -2],
      [0x7bff, 65504],
      [0xfbff, -65504],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
      [0x8001, -(2 ** -24)],
    ];
    for (const [h, v] of table) expect(f16ToF32(h), `0x${h.toString(16)}`).toBe(v);
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
    for (const h of [0x7c01, 0x7e00, 0x7fff, 0xfe00]) expect(f16ToF32(h)).toBeNaN();
  });

  it('f32 -> f16 inverts f16 -> f32 for all 63488 finite/infinite halves', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) {
        const back = f32ToF16(f16ToF32(h));
        expect((back & 0x7c00) === 0x7c00 && (back & 0x3ff) !== 0).toBe(true); // still NaN
        continue;
      }
      if (f32ToF16(f16ToF32(h)) !== h) expect(f32ToF16(f16ToF32(h)), `0x${h.toString(16)}`).toBe(h);
    }
  });

  it('f32 -> f16 rounds to nearest, ties to even, at every midpoint (subnormal and normal)', () => {
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    const nudge = (x: number, d: number) => {
      f[0] = x;
      u[0] = u[0]! + d;
      return f[0]!;
    };
    for (let h = 0; h < 0x7bff; h++) {
      const mid = (f16ToF32(h) + f16ToF32(h + 1)) / 2; // exact in float32 (12 significant bits)
      const even = h & 1 ? h + 1 : h;
      if (f32ToF16(mid) !== even) expect(f32ToF16(mid), `tie above 0x${h.toString(16)}`).toBe(even);
      if (f32ToF16(nudge(mid, -1)) !== h) expect(f32ToF16(nudge(mid, -1))).toBe(h);
      if (f32ToF16(nudge(mid, 1)) !== h + 1) expect(f32ToF16(nudge(mid, 1))).toBe(h + 1);
      if (f32ToF16(-mid) !== (even | 0x8000)) expect(f32ToF16(-mid)).toBe(even | 0x8000);
    }
    expect(f32ToF16(65519.99)).toBe(0x7bff);
    expect(f32ToF16(65520)).toBe(0x7c00); // halfway to the next binade rounds up to Inf
    expect(f32ToF16(2 ** -25)).toBe(0); // tie with 0: even
    expect(f32ToF16(2 ** -25 * 1.0000001)).toBe(1);
    expect(f32ToF16(1e-30)).toBe(0);
    expect(f32ToF16(-1e-30)).toBe(0x8000);
    expect(f32ToF16(1e10)).toBe(0x7c00);
    expect(f32ToF16(NaN) & 0x7e00).toBe(0x7e00);
  });

  it('bf16 <-> f32: exact widening, round to nearest even narrowing, NaN kept', () => {
    const table: [number, number][] = [
      [0x0000, 0],
      [0x3f80, 1],
      [0xbf80, -1],
      [0x3f81, 1 + 2 ** -7],
      [0x4049, 3.140625],
      [0x7f7f, 3.3895313892515355e38],
      [0x7f80, Infinity],
      [0xff80, -Infinity],
      [0x0001, 2 ** -133], // subnormal
    ];
    for (const [b, v] of table) {
      expect(bf16ToF32(b)).toBe(v);
      expect(f32ToBf16(v)).toBe(b);
    }
    expect(bf16ToF32(0x7fc0)).toBeNaN();
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80); // tie -> even
    expect(f32ToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie -> even (up)
    expect(f32ToBf16(1 + 2 ** -8 + 2 ** -20)).toBe(0x3f81);
    expect(f32ToBf16(3.4e38)).toBe(0x7f80); // rounds past the largest finite
    expect(f32ToBf16(NaN) & 0x7fc0).toBe(0x7fc0);
    expect(f32ToBf16(-0)).toBe(0x8000);
  });

  it('fp8 E4M3 (fn) and E5M2 decode', () => {
    const e4m3: [number, number][] = [
      [0x00, 0],
      [0x01, 2 ** -9],
      [0x07, 7 * 2 ** -9],
      [0x08, 2 ** -6],
      [0x38, 1],
      [0x39, 1.125],
      [0x7e, 448],
      [0xfe, -448],
      [0xb8, -1],
    ];
    for (const [b, v] of e4m3) expect(f8e4m3ToF32(b), `0x${b.toString(16)}`).toBe(v);
    expect(f8e4m3ToF32(0x7f)).toBeNaN();
    expect(f8e4m3ToF32(0xff)).toBeNaN();
    expect(f8e4m3ToF32(0x78)).toBe(256); // no infinities in the fn variant
    const e5m2: [number, number][] = [
      [0x00, 0],
      [0x01, 2 ** -16],
      [0x04, 2 ** -14],
      [0x3c, 1],
      [0x7b, 57344],
      [0x7c, Infinity],
      [0xfc, -Infinity],
      [0xc0, -2],
    ];
    for (const [b, v] of e5m2) expect(f8e5m2ToF32(b), `0x${b.toString(16)}`).toBe(v);
    expect(f8e5m2ToF32(0x7e)).toBeNaN();
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('writeSafetensors', () => {
  const dec = new TextDecoder();
  const headerOf = (b: Uint8Array) => {
    const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
    return dec.decode(b.subarray(8, 8 + n));
  };

  it('writes the reference serializer bytes (compact JSON, space padding to 8)', () => {
    const one = writeSafetensors({ 'attn.0': { shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) } });
    expect(headerOf(one)).toBe('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}');
    expect(one.length).toBe(8 + 64 + 24);
    expect([...one.subarray(72, 80)]).toEqual([0, 0, 0, 0, 0, 0, 0x80, 0x3f]);
    const pad = writeSafetensors({ attn0: { shape: [1, 1, 2, 3], data: new Float32Array(6) } });
    expect(headerOf(pad)).toBe('{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ');
    expect([...writeSafetensors({})]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d, 32, 32, 32, 32, 32, 32]);
    expect(headerOf(writeSafetensors({}, { framework: 'pt' }))).toBe('{"__metadata__":{"framework":"pt"}}     ');
  });

  it('orders tensors by dtype alignment descending, then name by code point', () => {
    const b = writeSafetensors({
      b: { shape: [1], data: new Uint8Array(1) },
      a: { shape: [1], data: new Uint8Array(1) },
      f: { shape: [1], data: new Float32Array(1) },
      i: { shape: [1], data: new BigInt64Array(1) },
      h: { shape: [1], dtype: 'F16', data: new Float32Array(1) },
      '\u{1F600}': { shape: [1], data: new Uint8Array(1) },
      '\uFFFF': { shape: [1], data: new Uint8Array(1) },
    });
    const order = Object.keys(JSON.parse(headerOf(b)));
    expect(order).toEqual(['i', 'f', 'h', 'a', 'b', '\uFFFF', '\u{1F600}']);
    expect(readSafetensors(b).names).toEqual(order);
  });

  const samples: Record<Dtype, SafetensorsInput> = {
    BOOL: { dtype: 'BOOL', shape: [2, 2], data: new Uint8Array([1, 0, 0, 1]) },
    U8: { shape: [3], data: new Uint8Array([0, 128, 255]) },
    I8: { shape: [3], data: new Int8Array([-128, 0, 127]) },
    F8_E5M2: { dtype: 'F8_E5M2', shape: [3], data: new Uint8Array([0x3c, 0xc0, 0x7c]) },
    F8_E4M3: { dtype: 'F8_E4M3', shape: [3], data: new Uint8Array([0x38, 0xfe, 0x01]) },
    I16: { shape: [3], data: new Int16Array([-32768, 1, 32767]) },
    U16: { shape: [3], data: new Uint16Array([0, 1, 65535]) },
    F16: { dtype: 'F16', shape: [4], data: new Float32Array([1, -2.5, 65504, 2 ** -24]) },
    BF16: { dtype: 'BF16', shape: [3], data: new Float32Array([1, -2.5, 3.140625]) },
    I32: { shape: [3], data: new Int32Array([-(2 ** 31), 16777217, 2 ** 31 - 1]) },
    U32: { shape: [2], data: new Uint32Array([0, 2 ** 32 - 1]) },
    F32: { shape: [2, 1], data: new Float32Array([Math.PI, -0]) },
    F64: { shape: [2], data: new Float64Array([1 / 3, 1e300]) },
    I64: { shape: [3], data: new BigInt64Array([-(2n ** 63n), -1n, 2n ** 62n + 1n]) },
    U64: { shape: [2], data: new BigUint64Array([0n, 2n ** 64n - 1n]) },
  };
  const asF32: Record<Dtype, number[] | null> = {
    BOOL: null,
    U8: [0, 128, 255],
    I8: [-128, 0, 127],
    F8_E5M2: [1, -2, Infinity],
    F8_E4M3: [1, -448, 2 ** -9],
    I16: [-32768, 1, 32767],
    U16: [0, 1, 65535],
    F16: [1, -2.5, 65504, 2 ** -24],
    BF16: [1, -2.5, 3.140625],
    I32: [-(2 ** 31), 16777216, 2 ** 31], // float32 rounding (ties to even)
    U32: [0, 2 ** 32],
    F32: [Math.fround(Math.PI), -0],
    F64: [Math.fround(1 / 3), Infinity],
    I64: [-(2 ** 63), -1, 2 ** 62],
    U64: [0, 2 ** 64],
  };

  it.each(DTYPES.map((d) => [d]))('round trips %s', (dtype) => {
    const input = samples[dtype];
    const bytes = writeSafetensors({ t: input, pad: { shape: [1], data: new Uint8Array([9]) } }, { k: 'v' });
    const f = readSafetensors(bytes);
    const t = f.get('t');
    expect(t.dtype).toBe(dtype);
    expect(t.shape).toEqual(input.shape);
    expect(t.bytes.length).toBe(input.data!.length * DTYPE_SIZE[dtype]);
    expect(f.metadata).toEqual(Object.assign(Object.create(null), { k: 'v' }));
    const want = asF32[dtype];
    if (want === null) rejects(() => f.toFloat32('t'), 'E_DTYPE', 'tensor "t" is BOOL');
    else expect([...f.toFloat32(t)]).toEqual(want);
    // Rewriting a reader entry (raw bytes) reproduces the file.
    expect(writeSafetensors({ t: f.get('t'), pad: f.get('pad') }, f.metadata)).toEqual(bytes);
  });

  it('reads integers exactly with toNumbers / toBigInt64 and refuses what would be inexact', () => {
    const f = readSafetensors(writeSafetensors({
      n: { shape: [], data: new BigInt64Array([7n]) },
      big: { shape: [1], data: new BigInt64Array([2n ** 53n + 1n]) },
      u: { shape: [1], data: new BigUint64Array([2n ** 63n]) },
      m: { dtype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
      h: { dtype: 'F16', shape: [1], data: new Float32Array([0.5]) },
      i: { shape: [2], data: new Int16Array([-3, 4]) },
    }));
    expect([...f.toNumbers('n')]).toEqual([7]);
    expect([...f.toFloat32('n')]).toEqual([7]);
    expect([...f.toBigInt64('n')]).toEqual([7n]);
    expect([...f.toNumbers('m')]).toEqual([1, 0, 1]);
    expect([...f.toBigInt64('m')]).toEqual([1n, 0n, 1n]);
    expect([...f.toBigInt64('i')]).toEqual([-3n, 4n]);
    expect([...f.toNumbers('h')]).toEqual([0.5]);
    expect([...f.toBigInt64('big')]).toEqual([2n ** 53n + 1n]);
    rejects(() => f.toNumbers('big'), 'E_DTYPE', 'tensor "big"', '9007199254740993');
    rejects(() => f.toBigInt64('u'), 'E_DTYPE', 'tensor "u"', 'does not fit an int64');
    rejects(() => f.toBigInt64('h'), 'E_DTYPE', 'tensor "h" is F16');
  });

  it('rounds 64-bit integers to float32 once (no double rounding)', () => {
    // 2^60 + 2^36 + 1 sits just above the float32 tie between 2^60 and 2^60 + 2^37; via float64 it would
    // first round to the tie 2^60 + 2^36 and then to even, 2^60.
    const v = 2n ** 60n + 2n ** 36n + 1n;
    expect(Math.fround(Number(v))).toBe(2 ** 60);
    const f = readSafetensors(writeSafetensors({ v: { shape: [2], data: new BigInt64Array([v, -v]) } }));
    expect([...f.toFloat32('v')]).toEqual([2 ** 60 + 2 ** 37, -(2 ** 60 + 2 ** 37)]);
  });

  it('converts F64 input to F32 and F32 input to F64/F16/BF16, and takes raw Uint16 bits for F16/BF16', () => {
    const f = readSafetensors(writeSafetensors({
      a: { dtype: 'F32', shape: [1], data: new Float64Array([1 / 3]) },
      b: { dtype: 'F64', shape: [1], data: new Float32Array([0.1]) },
      c: { dtype: 'F16', shape: [2], data: new Uint16Array([0x3c00, 0x7c00]) },
      d: { dtype: 'BF16', shape: [1], data: new Uint16Array([0x4049]) },
    }));
    expect(f.toFloat32('a')[0]).toBe(Math.fround(1 / 3));
    expect(f.toNumbers('b')[0]).toBe(Math.fround(0.1));
    expect([...f.toFloat32('c')]).toEqual([1, Infinity]);
    expect([...f.toFloat32('d')]).toEqual([3.140625]);
  });

  it('refuses bad input with the tensor named', () => {
    const w = (t: Record<string, unknown>, m?: unknown) => () => writeSafetensors(t as Record<string, SafetensorsInput>, m as Record<string, string>);
    rejects(w({ x: { shape: [2, 2], data: new Float32Array(3) } }), 'E_SHAPE', 'tensor "x"', 'shape [2,2] holds 4 elements but data has 3');
    rejects(w({ x: { shape: [-1], data: new Float32Array(1) } }), 'E_SHAPE', 'tensor "x"');
    rejects(w({ x: { dtype: 'F32', shape: [1], data: new Int32Array(1) } }), 'E_DTYPE', 'tensor "x": cannot write Int32Array as F32');
    rejects(w({ x: { dtype: 'I32', shape: [1], data: new Float32Array(1) } }), 'E_DTYPE', 'tensor "x"');
    rejects(w({ x: { dtype: 'F17', shape: [1], data: new Float32Array(1) } }), 'E_DTYPE', 'unknown dtype "F17"');
    rejects(w({ x: { dtype: 'BOOL', shape: [1], data: new Uint8Array([2]) } }), 'E_ARGUMENT', 'tensor "x": BOOL element 0 is 2');
    rejects(w({ x: { shape: [1], data: [1] } }), 'E_ARGUMENT', 'tensor "x": data must be a typed array');
    rejects(w({ x: { shape: [1], bytes: new Uint8Array(4) } }), 'E_DTYPE', 'raw bytes need an explicit dtype');
    rejects(w({ x: { dtype: 'F32', shape: [2], bytes: new Uint8Array(4) } }), 'E_SHAPE', 'needs 8 bytes but bytes has 4');
    rejects(w({ __metadata__: { shape: [1], data: new Float32Array(1) } }), 'E_ARGUMENT', 'reserved');
    rejects(w({ ['a\ud800']: { shape: [1], data: new Float32Array(1) } }), 'E_ARGUMENT', 'surrogate');
    rejects(w({}, { epoch: 3 }), 'E_ARGUMENT', 'metadata["epoch"] must be a string');
  });

  it('accepts a Map, keeps metadata order, and escapes names like serde_json', () => {
    const m = new Map<string, SafetensorsInput>([['q"\\\n\u0001é', { shape: [1], data: new Uint8Array([5]) }]]);
    const b = writeSafetensors(m, new Map([['z', '1'], ['a', '2']]));
    expect(headerOf(b).trimEnd()).toBe('{"__metadata__":{"z":"1","a":"2"},"q\\"\\\\\\n\\u0001é":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}');
    expect(readSafetensors(b).names).toEqual(['q"\\\n\u0001é']);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('PyTorch-written fixtures (tools/gen_safetensors_fixtures.py)', () => {
  const dir = new URL('../golden/safetensors/', import.meta.url);
  const mixed = new Uint8Array(readFileSync(new URL('torch_mixed.safetensors', dir)));
  const refOrder = new Uint8Array(readFileSync(new URL('torch_reference_order.safetensors', dir)));
  const expected = JSON.parse(readFileSync(new URL('torch_mixed.expected.json', dir), 'utf8')) as {
    metadata: Record<string, string>;
    f32_inputs: Record<string, (number | string)[]>;
    tensors: Record<string, { dtype: Dtype; shape: number[]; values: (number | string)[] }>;
  };
  const num = (v: number | string) => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : (v as number));

  it('reads every tensor as PyTorch widens it, from unaligned offsets', () => {
    for (const bytes of [mixed, refOrder]) {
      const f = readSafetensors(bytes);
      expect({ ...f.metadata }).toEqual(expected.metadata);
      expect([...f.names].sort()).toEqual(Object.keys(expected.tensors).sort());
      for (const [name, e] of Object.entries(expected.tensors)) {
        const t = f.get(name);
        expect(t.dtype, name).toBe(e.dtype);
        expect(t.shape, name).toEqual(e.shape);
        if (name === 'i64') continue; // beyond 2^53 (and lossy in JSON): checked with toBigInt64 below
        expect([...f.toNumbers(name)], name).toEqual(e.values.map(num));
        if (e.dtype !== 'BOOL') expect([...f.toFloat32(name)], name).toEqual(e.values.map((v) => Math.fround(num(v))));
      }
    }
    const f = readSafetensors(mixed);
    expect(f.get('b16').bytes.byteOffset % 2).toBe(1); // the fixture really is unaligned
    expect([...f.toBigInt64('i64')]).toEqual([-(2n ** 63n), -1n, 2n ** 53n + 1n, 2n ** 63n - 1n]);
    expect([...f.toNumbers('bn.num_batches_tracked')]).toEqual([7]);
  });

  it('rounds float32 to F16/BF16 bit-identically to PyTorch', () => {
    const f = readSafetensors(mixed);
    for (const [name, dtype] of [['h16', 'F16'], ['b16', 'BF16']] as const) {
      const src = Float32Array.from(expected.f32_inputs[name]!.map(num));
      const out = new Uint16Array(readSafetensors(writeSafetensors({ [name]: { dtype, shape: [src.length], data: src } })).get(name).bytes.slice().buffer);
      const torch = new Uint16Array(f.get(name).bytes.slice().buffer);
      for (let i = 0; i < src.length; i++) {
        // NOTE: PyTorch's vectorised CPU bf16 cast writes NaN as 0xffff, its scalar c10 cast as 0x7fc0 (ours):
        // any NaN pattern is accepted for NaN, everything else must be bit-identical.
        if (Number.isNaN(src[i])) expect((out[i]! & 0x7fff) > (dtype === 'F16' ? 0x7c00 : 0x7f80)).toBe(true);
        else expect(out[i], `${name}[${i}] = ${src[i]}`).toBe(torch[i]);
      }
    }
  });

  it('writes the same bytes as the reference layout, given the same tensors and metadata', () => {
    const f = readSafetensors(mixed);
    const input: Record<string, SafetensorsInput> = {};
    for (const t of f.entries()) input[t.name] = t;
    expect(writeSafetensors(input, f.metadata)).toEqual(refOrder);
  });

  it('tensorToFloat32 matches the method', () => {
    const f = readSafetensors(mixed);
    expect(tensorToFloat32(f.get('conv1.weight'))).toEqual(f.toFloat32('conv1.weight'));
  });
});
