// Property/fuzz tests of the safetensors reader: valid files round trip; mutated, truncated, extended and
// random files either parse into something that satisfies every invariant or throw a WasmzooError
// 'E_SAFETENSORS' -- never another exception, never a hang (each property is time-boxed).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WasmzooError } from '../../src/errors.js';
import {
  DTYPES,
  DTYPE_SIZE,
  MAX_HEADER_SIZE,
  readSafetensors,
  writeSafetensors,
  type SafetensorsFile,
  type SafetensorsInput,
} from '../../src/io/safetensors.js';

const RUNS = 2000;
const TIME_BOX_MS = 10_000;
const seedOpt = { numRuns: RUNS, interruptAfterTimeLimit: TIME_BOX_MS, markInterruptAsFailure: true };

// ---- generators -------------------------------------------------------------------------------------------

const wellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
const dtypeArb = fc.constantFrom(...DTYPES);
const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 });
const nameArb = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('conv1.weight', 'bn.num_batches_tracked', '__proto__', 'constructor', '0', ''),
);
const tensorArb = fc.tuple(dtypeArb, shapeArb).chain(([dtype, shape]) => {
  const nbytes = shape.reduce((a, b) => a * b, 1) * DTYPE_SIZE[dtype];
  return fc.uint8Array({ minLength: nbytes, maxLength: nbytes }).map((bytes): SafetensorsInput => ({ dtype, shape, bytes }));
});
const tensorsArb = fc.dictionary(
  nameArb.filter((n) => n !== '__metadata__' && wellFormed(n)),
  tensorArb,
  { maxKeys: 6 },
);
const metaArb = fc.option(
  fc.dictionary(fc.string({ maxLength: 8 }).filter(wellFormed), fc.string({ maxLength: 8 }).filter(wellFormed), { maxKeys: 3 }),
  { nil: undefined },
);
const validFileArb = fc.tuple(tensorsArb, metaArb).map(([t, m]) => ({ tensors: t, metadata: m, bytes: writeSafetensors(t, m) }));

const u64Arb = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

/** One mutation of a file (positions are taken modulo the length, so any file fits). */
type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'byte'; at: number; value: number }
  | { kind: 'headerChar'; at: number; ch: string }
  | { kind: 'length'; value: bigint }
  | { kind: 'lengthDelta'; delta: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'extend'; tail: Uint8Array }
  | { kind: 'splice'; at: number; len: number; insert: Uint8Array };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('headerChar' as const),
    at: fc.nat(),
    ch: fc.constantFrom('{', '}', '[', ']', '"', ',', ':', '0', '1', '9', '-', '.', 'e', ' ', '\\', 'F', '\u00e9', '\ud800', '\0'),
  }),
  fc.record({ kind: fc.constant('length' as const), value: u64Arb }),
  fc.record({ kind: fc.constant('lengthDelta' as const), delta: fc.integer({ min: -16, max: 16 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('extend' as const), tail: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), len: fc.integer({ min: 0, max: 8 }), insert: fc.uint8Array({ maxLength: 8 }) }),
);

function mutate(src: Uint8Array, m: Mutation): Uint8Array {
  const b = src.slice();
  const dv = new DataView(b.buffer);
  const headerEnd = b.length >= 8 ? Math.min(b.length, 8 + Number(dv.getBigUint64(0, true) & 0xffffffn)) : b.length;
  switch (m.kind) {
    case 'flip':
      if (b.length) b[m.at % b.length]! ^= 1 << m.bit;
      return b;
    case 'byte':
      if (b.length) b[m.at % b.length] = m.value;
      return b;
    case 'headerChar': {
      if (headerEnd <= 8) return b;
      const at = 8 + (m.at % (headerEnd - 8));
      const ch = new TextEncoder().encode(m.ch);
      b.set(ch.subarray(0, Math.max(0, b.length - at)), at);
      return b;
    }
    case 'length':
      if (b.length >= 8) dv.setBigUint64(0, m.value, true);
      return b;
    case 'lengthDelta':
      if (b.length >= 8) dv.setBigUint64(0, BigInt.asUintN(64, dv.getBigUint64(0, true) + BigInt(m.delta)), true);
      return b;
    case 'truncate':
      return b.slice(0, m.at % (b.length + 1));
    case 'extend': {
      const out = new Uint8Array(b.length + m.tail.length);
      out.set(b);
      out.set(m.tail, b.length);
      return out;
    }
    case 'splice': {
      const at = m.at % (b.length + 1);
      const out = new Uint8Array(b.length - Math.min(m.len, b.length - at) + m.insert.length);
      out.set(b.subarray(0, at));
      out.set(m.insert, at);
      out.set(b.subarray(Math.min(b.length, at + m.len)), at + m.insert.length);
      return out;
    }
  }
}

/** Random headers built from plausible parts, so the semantic checks (not only JSON) get exercised. */
const entryJsonArb = fc.oneof(
  { weight: 6, arbitrary: fc.record({
    dtype: fc.oneof({ weight: 8, arbitrary: dtypeArb as fc.Arbitrary<string> }, fc.constantFrom('f32', 'F12', '', 'BOOL ')),
    shape: fc.array(fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 6 }) }, fc.constantFrom(-1, 2 ** 32, 2 ** 53, 1.5)), { maxLength: 4 }),
    data_offsets: fc.tuple(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 64 })),
  }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);
const headerTextArb = fc
  .tuple(
    fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', '__metadata__', 'w.0'), entryJsonArb), { maxLength: 5 }),
    fc.constantFrom('', ' ', '  \n'),
  )
  .map(([entries, ws]) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}${ws}`);
const headerFileArb = fc.tuple(headerTextArb, fc.integer({ min: 0, max: 64 })).map(([text, dataLen]) => {
  const h = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + h.length + dataLen);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  return out;
});

// ---- the oracle -------------------------------------------------------------------------------------------

function sameList(a: ArrayLike<unknown>, b: ArrayLike<unknown>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Plain assertion: vitest's expect() is too slow for thousands of runs x dozens of checks. */
function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`invariant violated: ${what}`);
}

/** Either a clean E_SAFETENSORS error, or a parse that satisfies every invariant. Returns the parse. */
function readChecked(bytes: Uint8Array): SafetensorsFile | undefined {
  let f: SafetensorsFile;
  try {
    f = readSafetensors(bytes);
  } catch (e) {
    if (!(e instanceof WasmzooError) || e.code !== 'E_SAFETENSORS') throw e;
    check(e.message.startsWith('safetensors: '), 'message prefix');
    return undefined;
  }
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  check(f.headerLength === n && n <= MAX_HEADER_SIZE && f.dataStart === 8 + n, 'header length');
  let at = 0;
  for (const t of f.entries()) {
    check(t.bytes.buffer === bytes.buffer, `${t.name}: a view of the input`);
    check(t.dataOffsets[0] === at, `${t.name}: contiguous`);
    check(t.bytes.byteOffset === bytes.byteOffset + f.dataStart + at, `${t.name}: view offset`);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    check(t.bytes.length === numel * DTYPE_SIZE[t.dtype], `${t.name}: size`);
    at = t.dataOffsets[1];
    for (const conv of [() => f.toFloat32(t), () => f.toNumbers(t), () => f.toBigInt64(t)]) {
      try {
        check(conv().length === numel, `${t.name}: converted length`);
      } catch (e) {
        if (!(e instanceof WasmzooError) || e.code !== 'E_DTYPE') throw e;
      }
    }
  }
  check(f.dataStart + at === bytes.length, 'tensors end at the end of the file');
  check(new Set(f.names).size === f.names.length, 'unique names');
  return f;
}

// ---- properties -------------------------------------------------------------------------------------------

describe('safetensors fuzz', () => {
  it('valid files round trip (names, dtypes, shapes, bytes, metadata) and re-serialize identically', () => {
    fc.assert(
      fc.property(validFileArb, ({ tensors, metadata, bytes }) => {
        const f = readChecked(bytes);
        check(f !== undefined, 'a valid file parses');
        check(sameList([...f!.names].sort(), Object.keys(tensors).sort()), 'names');
        for (const [name, t] of Object.entries(tensors)) {
          const got = f!.get(name);
          check(got.dtype === t.dtype && sameList(got.shape, t.shape) && sameList(got.bytes, t.bytes!), `${name}: entry`);
        }
        const meta = metadata ?? {};
        check(sameList(Object.keys(f!.metadata), Object.keys(meta)), 'metadata keys');
        for (const k of Object.keys(meta)) check(f!.metadata[k] === meta[k], `metadata ${k}`);
        const again = writeSafetensors(Object.fromEntries(f!.entries().map((t) => [t.name, t])), metadata);
        check(sameList(again, bytes), 're-serialized bytes');
        check((f!.dataStart & 7) === 0, 'header padded to 8');
      }),
      seedOpt,
    );
  }, TIME_BOX_MS + 5000);

  it('mutated valid files: clean error or a consistent parse', () => {
    fc.assert(
      fc.property(validFileArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), ({ bytes }, ms) => {
        readChecked(ms.reduce(mutate, bytes));
      }),
      seedOpt,
    );
  }, TIME_BOX_MS + 5000);

  it('random bytes and random headers: clean error or a consistent parse', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 64 }), headerFileArb, headerFileArb.chain((b) => mutationArb.map((m) => mutate(b, m)))),
        (bytes) => {
          readChecked(bytes);
        },
      ),
      seedOpt,
    );
  }, TIME_BOX_MS + 5000);

  it('header lengths above 100 MB are refused at once, without allocation, whatever the file', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: BigInt(MAX_HEADER_SIZE) + 1n, max: (1n << 64n) - 1n }), fc.uint8Array({ maxLength: 32 }), (n, rest) => {
        const b = new Uint8Array(8 + rest.length);
        new DataView(b.buffer).setBigUint64(0, n, true);
        b.set(rest, 8);
        let err: unknown;
        try {
          readSafetensors(b);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(WasmzooError);
        expect((err as WasmzooError).message).toContain(`header length ${n} exceeds the 100000000-byte limit`);
      }),
      { numRuns: 500 },
    );
  });

  it('a near-limit header length on a small file fails fast on the file size, not after reading', () => {
    const b = new Uint8Array(64);
    new DataView(b.buffer).setBigUint64(0, BigInt(MAX_HEADER_SIZE), true);
    // the size check comes first (its message proves nothing was read or allocated); a hang would hit the
    // test timeout: timing never decides a test here (shared, noisy machines)
    expect(() => readSafetensors(b)).toThrow(/header length 100000000 exceeds the file size 64/);
  });

  it('a large but valid header (1 MB of padding, 5k tensors) parses (a quadratic scan would hit the test timeout)', () => {
    const tensors: Record<string, SafetensorsInput> = {};
    for (let i = 0; i < 5000; i++) tensors[`layer.${i}.w`] = { shape: [1], data: new Float32Array([i]) };
    const bytes = writeSafetensors(tensors);
    const f = readSafetensors(bytes);
    expect(f.size).toBe(5000);
    expect(f.toFloat32('layer.4999.w')[0]).toBe(4999);
    // Deeply nested junk must not blow the stack: clean error.
    const deep = `{"x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    const h = new TextEncoder().encode(deep);
    const b = new Uint8Array(8 + h.length);
    new DataView(b.buffer).setBigUint64(0, BigInt(h.length), true);
    b.set(h, 8);
    expect(() => readSafetensors(b)).toThrow(WasmzooError);
  });
});
