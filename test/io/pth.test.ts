/**
 * PyTorch checkpoints (src/io/pth.ts, src/io/pickle.ts, src/io/zip.ts) against files torch itself wrote
 * (test/fixtures/pth/, tools/goldens/pth_fixtures.py, torch 1.13) and torch's own reading of them
 * (expected.safetensors: every tensor as `t.float()`, integers also exactly): bit-exact, no tolerance, since
 * converting f16/bf16/f64/int64 to float32 is exact or one correctly rounded step on both sides.
 *
 * ResNet-18: a torchvision-layout checkpoint of the hashed weights the zoo goldens use, written by
 * test/io/pth-writer.ts (itself checked byte for byte against torch.save), loaded through `weights:` and run
 * against PyTorch's logits for those weights (test/golden/zoo/resnet18.safetensors; tolerance as the zoo test).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { WasmzooError } from '../../src/errors.js';
import { isPth, readPth } from '../../src/io/pth.js';
import { readZip } from '../../src/io/zip.js';
import { unpickle, PyDict, PyGlobal, type PickleHost } from '../../src/io/pickle.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { readWeights } from '../../src/io/weights.js';
import { init } from '../../src/runtime/runtime.js';
import { hashTensor, hashWeights } from '../../src/models/hashweights.js';
import { resnet18 } from '../../src/models/resnet.js';
import { LeNet5, lenet5 } from '../../src/models/lenet.js';
import { expectClose } from '../kernels/harness.js';
import { contiguousStride, storage, tensor, writePth, type PthStorage, type PthTensorSpec } from './pth-writer.mjs';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/pth/${name}`, import.meta.url)));
const expected = readSafetensors(fixture('expected.safetensors'));
/** The fixture's tensors as torch read them: name -> float32 values (and the exact ints). */
function torchValues(fx: string): Map<string, { shape: readonly number[]; f32: Float32Array; i64?: BigInt64Array }> {
  const out = new Map<string, { shape: readonly number[]; f32: Float32Array; i64?: BigInt64Array }>();
  for (const n of expected.names) {
    if (!n.startsWith(`${fx}/`) || n.endsWith('#i64')) continue;
    const key = n.slice(fx.length + 1);
    const t = expected.get(n);
    out.set(key, { shape: t.shape, f32: expected.toFloat32(t), i64: expected.has(`${n}#i64`) ? expected.toBigInt64(`${n}#i64`) : undefined });
  }
  return out;
}
const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof WasmzooError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'no error';
};

describe('torch.save files read as torch reads them', () => {
  const cases: [string, string, string][] = [
    // fixture, format, container
    ['f32', 'zip', ''], ['f16', 'zip', ''], ['bf16', 'zip', ''], ['f64', 'zip', ''], ['ints', 'zip', ''],
    ['noncontig', 'zip', ''], ['shared', 'zip', ''], ['nested', 'zip', 'state_dict'], ['model_key', 'zip', 'model'],
    ['legacy', 'legacy', ''], ['proto4', 'zip', ''], ['param', 'zip', ''], ['writer_check', 'zip', ''],
  ];
  // f32.pth re-zipped with every record deflated (Python's zipfile, ZIP_DEFLATED): the same tensors
  it('deflated.pth (f32.pth with deflated records) reads bit for bit as f32.pth', () => {
    const f = readPth(fixture('deflated.pth')), g = readPth(fixture('f32.pth'));
    expect([...f.names]).toEqual([...g.names]);
    const zip = readZip(fixture('deflated.pth'), 'pth');
    expect([...zip.entries.values()].every((e) => e.method === 8)).toBe(true);
    for (const k of g.names) expect(bits(f.toFloat32(k)), k).toEqual(bits(g.toFloat32(k)));
  });
  it.each(cases)('%s.pth (%s format): every tensor, its shape and its float32 values bit for bit', (fx, format, container) => {
    const bytes = fixture(`${fx}.pth`);
    expect(isPth(bytes)).toBe(true);
    const f = readPth(bytes);
    expect(f.format).toBe(format);
    expect(f.container).toBe(container);
    const want = torchValues(fx);
    expect([...f.names]).toEqual(JSON.parse(expected.metadata[`order.${fx}`]!)); // the state dict's order
    for (const [k, w] of want) {
      const t = f.get(k);
      expect(t.shape, k).toEqual(w.shape);
      if (t.dtype === 'BOOL') {
        expect([...f.bytes(k)], k).toEqual([...w.f32]);
        continue;
      }
      expect(bits(f.toFloat32(k)), `${fx}/${k}`).toEqual(bits(w.f32));
      if (t.dtype === 'I64') expect(f.view(k).bytes, k).toEqual(new Uint8Array(w.i64!.buffer)); // exact, not only as float32
    }
  });

  it('dtypes as stored: f16/bf16/f64 weights next to the int64 num_batches_tracked buffer', () => {
    for (const [fx, dtype] of [['f32', 'F32'], ['f16', 'F16'], ['bf16', 'BF16'], ['f64', 'F64']] as const) {
      const f = readPth(fixture(`${fx}.pth`));
      expect(f.get('conv.weight').dtype).toBe(dtype);
      expect(f.get('bn.num_batches_tracked')).toMatchObject({ dtype: 'I64', shape: [] });
      expect(f.toFloat32('bn.num_batches_tracked')).toEqual(new Float32Array([7]));
    }
  });

  it('integer tensors: exact values of every width; int64 past 2^24 rounds as torch .float()', () => {
    const f = readPth(fixture('ints.pth'));
    const want = torchValues('ints');
    const asBig = (k: string): bigint[] => {
      const v = f.view(k);
      const dv = new DataView(v.bytes.buffer, v.bytes.byteOffset, v.bytes.byteLength);
      const size = { I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 }[v.dtype as 'I64']!;
      return Array.from({ length: v.bytes.length / size }, (_, i) =>
        size === 8 ? dv.getBigInt64(8 * i, true) : BigInt(size === 4 ? dv.getInt32(4 * i, true) : size === 2 ? dv.getInt16(2 * i, true) : v.dtype === 'I8' ? dv.getInt8(i) : dv.getUint8(i)));
    };
    for (const k of f.names) expect(asBig(k), k).toEqual([...want.get(k)!.i64!]);
    expect(f.get('i64').dtype).toBe('I64');
    expect(f.toFloat32('i64')[4]).toBe(2 ** 62 + 2 ** 39); // 2^62 + 2^38 + 1 is just above a tie: rounds up (twice rounding via f64 would tie to even, 2^62)
  });

  it('non-contiguous views keep torch\'s offset and strides and copy out in C order', () => {
    const f = readPth(fixture('noncontig.pth'));
    expect(f.get('t')).toMatchObject({ shape: [3, 5], stride: [1, 3], storageOffset: 0 });
    expect(f.get('s')).toMatchObject({ shape: [3, 3], stride: [6, 2], storageOffset: 6 });
    expect(f.get('e')).toMatchObject({ shape: [3, 4], stride: [0, 1] });
    expect(f.get('t').storage).toBe(f.get('c').storage); // the transpose and its base share one storage
    const c = f.toFloat32('c');
    const t = f.toFloat32('t');
    for (let i = 0; i < 3; i++) for (let j = 0; j < 5; j++) expect(t[i * 5 + j]).toBe(c[j * 3 + i]);
  });

  it('shared storage: three views of one storage, each at its offset; a contiguous one is a view of the file, not a copy', () => {
    const bytes = fixture('shared.pth');
    const f = readPth(bytes);
    expect(new Set(f.names.map((n) => f.get(n).storage)).size).toBe(1);
    expect(f.get('b').storageOffset).toBe(4);
    expect([...f.toFloat32('b')]).toEqual([2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5]);
    expect(f.bytes('c').buffer).toBe(bytes.buffer);
  });

  it('a state dict\'s _metadata (BUILD on the OrderedDict) and a checkpoint\'s other entries are ignored', () => {
    expect(readPth(fixture('f32.pth')).names).not.toContain('_metadata');
    const n = readPth(fixture('nested.pth'));
    expect(n.names).toEqual(readPth(fixture('f32.pth')).names);
    expect(n.skipped).toEqual([]);
  });
});

describe('loading checkpoints into models', () => {
  beforeAll(async () => {
    await init();
  });

  it('loadStateDict and `weights:` take .pth bytes: LeNet-5 from torch-layout checkpoints (a storage per tensor; one shared storage holding transposed 2-D views), outputs equal the shipped model', async () => {
    const shipped = new Uint8Array(readFileSync(new URL('../../weights/lenet5-fashion.safetensors', import.meta.url)));
    const ref = await lenet5({ weights: shipped });
    const sd = ref.stateDict();
    const x = hashTensor(3, 'input', [2, 1, 28, 28]);
    const want = ref.forward(x);
    // f32: every tensor its own storage
    const f32 = writePth(Object.entries(sd).map(([k, t]) => [k, tensor('F32', t.data, [...t.shape])]));
    const a = await lenet5({ weights: f32 });
    expect(a.forward(x).data).toEqual(want.data);
    // one shared storage for every tensor, each stored transposed-by-strides where 2-D: views, not copies
    const all = new Float32Array(Object.values(sd).reduce((n, t) => n + t.data.length, 0));
    const shared: PthStorage = { dtype: 'F32', bytes: new Uint8Array(all.buffer) };
    const specs: [string, PthTensorSpec][] = [];
    let at = 0;
    for (const [k, t] of Object.entries(sd)) {
      const shape = [...t.shape];
      if (shape.length === 2) {
        // store the transpose contiguously, describe the tensor by strides (1, rows)
        const [r, c] = shape as [number, number];
        for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) all[at + j * r + i] = t.data[i * c + j]!;
        specs.push([k, { storage: shared, shape, stride: [1, r], offset: at }]);
      } else {
        all.set(t.data, at);
        specs.push([k, { storage: shared, shape, stride: contiguousStride(shape), offset: at }]);
      }
      at += t.data.length;
    }
    const b = new LeNet5().loadStateDict(writePth(specs));
    expect(b.forward(x).data).toEqual(want.data);
    ref.dispose();
    a.dispose();
    b.dispose();
  });

  it('a BOOL tensor, a missing key and a bad shape are reported together, as for safetensors', () => {
    const m = new LeNet5();
    const sd = m.stateDict();
    const entries = Object.entries(sd).filter(([k]) => k !== 'fc3.bias').map(([k, t]) => [k, tensor('F32', t.data, [...t.shape])] as [string, PthTensorSpec]);
    entries[0] = [entries[0]![0], tensor('BOOL', new Uint8Array(sd[entries[0]![0]]!.data.length), [...sd[entries[0]![0]]!.shape])];
    const msg = code(() => m.loadStateDict(writePth(entries)));
    expect(msg).toMatch(/^E_STATE_DICT: .*dtype BOOL cannot feed a float parameter.*missing keys: fc3\.bias/);
    expect(readWeights(writePth(entries)).get(entries[0]![0])?.problem?.code).toBe('E_DTYPE');
  });

  it('a corrupt storage (CRC-32) is refused at load and leaves the model unchanged', () => {
    const m = new LeNet5();
    const before = m.stateDict();
    const bytes = writePth(Object.entries(hashWeights(new LeNet5(), 5).stateDict()).map(([k, t]) => [k, tensor('F32', t.data, [...t.shape])]));
    const f = readPth(bytes);
    const data = f.bytes('fc3.weight');
    const bad = bytes.slice();
    bad[data.byteOffset - bytes.byteOffset + 17]! ^= 0x40;
    expect(code(() => m.loadStateDict(bad))).toMatch(/^E_PICKLE: .*data\/\d+": CRC-32 mismatch/);
    expect(m.stateDict()['conv1.weight']!.data).toEqual(before['conv1.weight']!.data);
  });

  it('byteorder "big" (torch >= 2.1 on a big-endian host): elements are swapped on read', () => {
    const v = new Float32Array([1.5, -2, 3.25, 1e-20]);
    const be = new Uint8Array(16);
    const dv = new DataView(be.buffer);
    v.forEach((x, i) => dv.setFloat32(4 * i, x, false));
    const f = readPth(writePth({ w: { storage: { dtype: 'F32', bytes: be }, shape: [2, 2] } }, { byteorder: 'big' }));
    expect(f.bigEndian).toBe(true);
    expect(f.toFloat32('w')).toEqual(v);
    expect(readPth(writePth({ w: tensor('F32', v, [4]) }, { byteorder: 'little' })).toFloat32('w')).toEqual(v);
  });

  it('ResNet-18, torchvision layout (hashed weights of the zoo goldens, int64 num_batches_tracked): PyTorch\'s logits through `weights:`', async () => {
    const gold = readSafetensors(new Uint8Array(readFileSync(new URL('../golden/zoo/resnet18.safetensors', import.meta.url))));
    const seed = Number(gold.metadata.seed);
    const c = (JSON.parse(gold.metadata.cases!) as { name: string; input_seed: number; shape: number[] }[]).find((k) => k.name === 'b2_64')!;
    const src = hashWeights(await resnet18(), seed);
    const specs: [string, PthTensorSpec][] = src.namedState().map(([k, p]) => [k, p.integer
      ? tensor('I64', BigInt64Array.from(p.data, (x) => BigInt(x)), [...p.shape])
      : tensor('F32', p.data, [...p.shape])]);
    expect(specs.filter(([, s]) => s.storage.dtype === 'I64').length).toBe(20); // every BatchNorm's counter
    const bytes = writePth(specs, { archive: 'resnet18-f37072fd' });
    src.dispose();
    const m = await resnet18({ weights: bytes });
    const got = m.forward(hashTensor(c.input_seed, 'input', c.shape));
    const want = gold.get(`expected.${c.name}`);
    expect(got.shape).toEqual([...want.shape]);
    expectClose(got.data, gold.toFloat32(want), 1e-4, 1e-3, 'resnet18 from .pth');
    const top = (row: Float32Array) => [...row.keys()].sort((a, b) => row[b]! - row[a]!).slice(0, 5);
    const w = gold.toFloat32(want);
    for (let r = 0; r < 2; r++) expect(top(got.data.subarray(r * 1000, (r + 1) * 1000))).toEqual(top(w.subarray(r * 1000, (r + 1) * 1000)));
    m.dispose();
  }, 60_000);
});

describe('the test writer is torch.save', () => {
  it('rebuilds writer_check.pth byte for byte (11 storages in sorted key order, a shared one, numel > 255, f16, int64)', () => {
    const conv = Float32Array.from({ length: 54 }, (_, i) => Math.fround(Math.fround(i / 10) - 2));
    const specs: [string, PthTensorSpec][] = [
      ['conv.weight', tensor('F32', conv, [2, 3, 3, 3])],
      ['conv.bias', tensor('F32', new Float32Array([0.25, -0.5]), [2])],
      ['bn.num_batches_tracked', tensor('I64', new BigInt64Array([7n]), [])],
      ['half', tensor('F16', new Uint16Array([0x3c00, 0xc100, 0x7bff]), [3])],
      ['long', tensor('F32', Float32Array.from({ length: 300 }, (_, i) => i), [300])],
    ];
    for (let i = 0; i < 6; i++) specs.push([`fc${i}.weight`, tensor('F32', new Float32Array(2 * (i + 1)).fill(i), [2, i + 1])]);
    const big = storage('F32', Float32Array.from({ length: 10 }, (_, i) => i));
    specs.push(['view.a', { storage: big, shape: [4] }], ['view.b', { storage: big, shape: [2, 3], offset: 4 }]);
    const ours = writePth(specs, { archive: 'writer_check' });
    const torch = fixture('writer_check.pth');
    const firstDiff = ours.findIndex((b, i) => b !== torch[i]);
    expect({ length: ours.length, firstDiff }).toEqual({ length: torch.length, firstDiff: -1 });
  });
});

describe('refusals: E_PICKLE, naming what was refused', () => {
  it('a pickle that would run os.system in Python is refused at its GLOBAL, naming it', () => {
    const msg = code(() => readPth(fixture('malicious.pth')));
    expect(msg).toMatch(/^E_PICKLE: pth malicious\/data\.pkl: global "posix\.system" is not allowed.*never runs pickled code \(opcode GLOBAL at byte \d+\)/);
    expect(code(() => new LeNet5().loadStateDict(fixture('malicious.pth')))).toMatch(/^E_PICKLE: .*posix\.system/);
  });

  it('the GLOBAL is refused before any later opcode is read (what follows it is garbage here)', () => {
    const evil = new Uint8Array([0x80, 2, ...new TextEncoder().encode('cos\nsystem\n'), 0xff, 0xff, 0xff]);
    const host: PickleHost = { global: () => undefined };
    expect(code(() => unpickle(evil, host, 'x'))).toMatch(/^E_PICKLE: x: global "os\.system" is not allowed.*opcode GLOBAL at byte 2\)$/);
    const viaStack = new Uint8Array([0x80, 4, 0x8c, 8, ...new TextEncoder().encode('builtins'), 0x8c, 4, ...new TextEncoder().encode('eval'), 0x93, 0xff]);
    expect(code(() => unpickle(viaStack, host, 'x'))).toMatch(/global "builtins\.eval" is not allowed.*STACK_GLOBAL/);
  });

  it('a whole pickled nn.Module names its class', () => {
    expect(code(() => readPth(fixture('module.pth')))).toMatch(/^E_PICKLE: .*global "torch\.nn\.modules\.linear\.Linear" is not allowed/);
  });

  it('a record whose deflate data is corrupt, or inflates to another size than recorded, is an E_PICKLE naming it', () => {
    const good = fixture('deflated.pth');
    const zip = readZip(good, 'pth');
    const [name, e] = [...zip.entries].find(([n]) => n.endsWith('/data.pkl'))!;
    const start = e.headerOffset + 30 + (good[e.headerOffset + 26] | (good[e.headerOffset + 27] << 8)) + (good[e.headerOffset + 28] | (good[e.headerOffset + 29] << 8));
    const bad = good.slice();
    bad[start] |= 0x06; // the first block's type bits set to 0b11, which is no block type
    expect(code(() => readZip(bad, 'pth').read(name))).toMatch(/^E_PICKLE: pth: record ".*data\.pkl": is deflate-compressed and does not inflate \(cannot inflate: an invalid block type/);
    // the central directory's uncompressed size, one less: the inflater stops at the recorded size
    const shorter = good.slice();
    const dv = new DataView(shorter.buffer);
    for (let p = 0; p + 46 <= shorter.length; p++) {
      if (dv.getUint32(p, true) === 0x02014b50 && dv.getUint32(p + 42, true) === e.headerOffset) dv.setUint32(p + 24, e.size - 1, true);
    }
    expect(code(() => readZip(shorter, 'pth').read(name))).toMatch(/^E_PICKLE: pth: record ".*data\.pkl": is deflate-compressed and does not inflate \(cannot inflate: the output passes the limit/);
  });

  it('the tar format of torch < 0.4 says to save it again with a newer torch', () => {
    const tar = new Uint8Array(1024);
    tar.set(new TextEncoder().encode('ustar'), 257);
    expect(isPth(tar)).toBe(true);
    expect(code(() => readPth(tar))).toMatch(/^E_PICKLE: pth: this is the tar checkpoint format of torch < 0\.4.*save it again \(torch >= 1\.6/);
  });

  it('every truncation of a checkpoint (zip and legacy) is an E_PICKLE, never another error', () => {
    for (const fx of ['f32', 'legacy', 'deflated']) {
      const b = fixture(`${fx}.pth`);
      for (let n = 14; n < b.length; n++) {
        const msg = code(() => {
          const f = readPth(b.subarray(0, n));
          for (const k of f.names) f.toFloat32(k);
        });
        expect(msg.slice(0, 9), `${fx} cut at ${n}: ${msg}`).toBe('E_PICKLE:');
      }
    }
  });

  it('not a checkpoint: safetensors bytes still go to the safetensors reader; a dict without tensors lists its keys', () => {
    expect(isPth(new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]))).toBe(false);
    const none = writePth([]);
    expect(code(() => readPth(none))).toMatch(/^E_PICKLE: .*no tensors.*keys: none/);
  });

  it('views that reach past their storage are refused when the pickle is read, before any data is', () => {
    const s = storage('F32', new Float32Array(6));
    const cases: [PthTensorSpec, RegExp][] = [
      [{ storage: s, shape: [7] }, /reaches element 6, past the storage of 6 F32 elements/],
      [{ storage: s, shape: [2, 3], offset: 1 }, /reaches element 6/],
      [{ storage: s, shape: [3, 2], stride: [1, 4] }, /reaches element 6/],
      [{ storage: s, shape: [2, 2], stride: [2 ** 30, 1] }, /past the storage/],
      [{ storage: s, shape: [0, 5], offset: 7 }, /storage offset 7 is past/],
      [{ storage: s, shape: [2 ** 30, 2], stride: [0, 1] }, /a view of 2147483648 elements over a storage of 6 \(stride 0\)/],
    ];
    for (const [spec, re] of cases) expect(code(() => readPth(writePth({ w: spec }))), JSON.stringify(spec.shape)).toMatch(re);
    expect(readPth(writePth({ w: { storage: s, shape: [3, 2], stride: [1, 3] } })).toFloat32('w')).toEqual(new Float32Array(6)); // reaches 5: fits
  });
});

describe('the pickle interpreter on hand-made streams', () => {
  const host: PickleHost = { global: (m, n) => (m === 'collections' && n === 'OrderedDict' ? new PyGlobal(m, n, () => new PyDict()) : undefined) };
  const run = (...b: number[]) => code(() => unpickle(Uint8Array.from(b), host, 'p'));
  it('refuses malformed and over-limit streams, naming the opcode and offset', () => {
    expect(run(0x80, 2)).toMatch(/no STOP opcode/);
    expect(run(0x80, 2, 0x2e)).toMatch(/0 values on the stack/);
    expect(run(0x4b, 1, 0x4b, 2, 0x2e)).toMatch(/2 values on the stack/);
    expect(run(0x68, 5, 0x2e)).toMatch(/memo key 5 was never stored \(opcode BINGET at byte 0\)/);
    expect(run(0x81)).toMatch(/opcode NEWOBJ at byte 0.*|NEWOBJ/);
    expect(run(0xff)).toMatch(/unknown opcode \(opcode 0xff at byte 0\)/);
    expect(run(0x58, 0xff, 0xff, 0xff, 0x7f, 0x41)).toMatch(/truncated: needs 2147483647 more bytes/);
    expect(run(0x58, 2, 0, 0, 0, 0xc3, 0x28, 0x2e)).toMatch(/not valid UTF-8/);
    expect(run(0x8b, 0, 1, 0, 0, 0x2e)).toMatch(/integer of 256 bytes/);
    expect(run(0x28, 0x2e)).toMatch(/MARK\(s\) left open/);
    expect(run(0x75, 0x2e)).toMatch(/no MARK to pop to/);
    expect(run(0x4b, 1, 0x28, 0x4b, 2, 0x73)).toMatch(/pops past the last MARK/);
    expect(run(0x5d, 0x4b, 1, 0x4b, 2, 0x73)).toMatch(/sets items on a list/);
    expect(run(0x4b, 1, 0x29, 0x52)).toMatch(/calls a int/);
    expect(run(...new Array(300).fill(0x28))).toMatch(/more than 256 nested MARKs/);
    expect(run(0x4b, 1, 0x62)).toMatch(/stack underflow|pops past/);
    expect(run(0x4b, 1, 0x4b, 2, 0x62)).toMatch(/sets the state of a int/);
    expect(code(() => unpickle(Uint8Array.from([0x4b, 1, 0x71, 0, 0x4b, 2, 0x71, 1, 0x2e]), host, 'p', 0, { maxMemo: 1 }))).toMatch(/memo exceeds 1 entries/);
    expect(code(() => unpickle(Uint8Array.from([0x4b, 1, 0x4b, 2, 0x2e]), host, 'p', 0, { maxStack: 1 }))).toMatch(/stack exceeds 1 items/);
    expect(run(0x4e, 0x51)).toMatch(/persistent ids are not allowed/);
  });

  it('a LIST of a million items (at the stack cap) builds without overflowing the call stack', () => {
    const n = (1 << 20) - 1;
    const b = new Uint8Array(2 + 2 * n + 2);
    b[0] = 0x28;
    for (let i = 0; i < n; i++) b.set([0x4b, i & 0xff], 1 + 2 * i);
    b.set([0x6c, 0x2e], 1 + 2 * n);
    const r = unpickle(b, host, 'p');
    expect((r.value as { items: unknown[] }).items.length).toBe(n);
  });

  it('builds values: ints of every width (LONG1 beyond 2^53 as bigint), floats apart from ints, strs, nested containers', () => {
    const stream = Uint8Array.from([
      0x80, 2, 0x28, 0x4b, 200, 0x4d, 0x34, 0x12, 0x4a, 0xff, 0xff, 0xff, 0xff, 0x8a, 8, 0, 0, 0, 0, 0, 0, 0, 0x80,
      0x8a, 2, 0xff, 0x7f, 0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x88, 0x4e, 0x8c, 2, 0x68, 0x69, 0x7d, 0x4b, 1, 0x5d, 0x73, 0x74, 0x2e,
    ]);
    const r = unpickle(Uint8Array.from([...stream, 0xff]), host, 'p');
    expect(r.end).toBe(stream.length); // just past STOP: what follows is not read
    const items = (r.value as { items: unknown[] }).items;
    expect(items.slice(0, 5)).toEqual([200, 0x1234, -1, -(2n ** 63n), 0x7fff]);
    expect(items[5]).toMatchObject({ value: 1.5 });
    expect(items.slice(6, 9)).toEqual([true, null, 'hi']);
    expect(items[9]).toBeInstanceOf(PyDict);
  });
});
