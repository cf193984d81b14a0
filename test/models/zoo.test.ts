/**
 * The ImageNet zoo against PyTorch (torchvision's own model definitions; tools/zfnet.py for ZFNet).
 *
 * Golden files (test/golden/zoo/<arch>.safetensors, tools/gen_zoo_goldens.py) hold only seeds, shapes and
 * PyTorch's outputs: weights and inputs are regenerated here by the closed-form hash shared with Python
 * (src/models/hashweights.ts = tools/hashweights.py), checked bit for bit first.
 *
 * Tolerance on logits and features: |d| <= 1e-4 + 1e-3 |ref|, plus identical top-5 (the generator picks
 * inputs whose top-6 logits are >= 5e-3 apart). Reason: float32 sums of up to 25088 products (VGG's fc6),
 * 4608 per 3x3x512 conv, in another order (GEMM blocking; batch norm folded into the weights before the
 * sum instead of applied after it), compounded through up to 152 layers; observed errors are ~1e-5.
 *
 * Cost: every architecture runs once in the default (relaxed) variant, VGG at 64x64 (torchvision's
 * AdaptiveAvgPool2d((7, 7)) accepts it; 224 would be 15-39 GFLOP per image) and the rest at 224x224;
 * ResNet-18 at 64x64 also runs in the SIMD and scalar variants.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { init, BACKENDS, type Backend } from '../../src/runtime/runtime.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { WasmzooError } from '../../src/errors.js';
import { Tensor, tensor } from '../../src/tensor.js';
import { hashInto, hashTensor, hashWeights } from '../../src/models/hashweights.js';
import { zoo, zooNames } from '../../src/models/registry.js';
import { resolveWeights, type ZooModel, type ZooName } from '../../src/models/common.js';
import { resnet18, resnet34, resnet50 } from '../../src/models/resnet.js';
import { googlenet } from '../../src/models/googlenet.js';
import { expectClose } from '../kernels/harness.js';

interface Case {
  name: string;
  input_seed: number;
  shape: number[];
  include_top: boolean;
  pooling: 'avg' | 'max' | null;
  transform_input: boolean;
  backends: Backend[];
}

function loadGolden(arch: ZooName) {
  const file = readSafetensors(new Uint8Array(readFileSync(new URL(`../golden/zoo/${arch}.safetensors`, import.meta.url))));
  const md = file.metadata;
  if (md.format !== 'wasmzoo-golden') throw new Error(`${arch}: not a wasmzoo golden file`);
  const get = (k: string) => {
    const t = file.get(k);
    return new Tensor(file.toFloat32(t), t.shape);
  };
  return {
    seed: Number(md.seed),
    cases: JSON.parse(md.cases) as Case[],
    numParams: Number(md.num_params),
    flops: Number(md.flops),
    convFlops: Number(md.conv_flops),
    minSize: Number(md.min_size),
    auxKeys: JSON.parse(md.aux_keys) as Record<string, number[]>,
    checks: file.names.filter((n) => n.startsWith('check.')).map((n) => [n.slice(6), get(n)] as const),
    expected: (c: string) => get(`expected.${c}`),
  };
}
/** Count and SHA-256 of PyTorch's state_dict keys and shapes per architecture (tools/gen_zoo_goldens.py --keys). */
const torchKeys = JSON.parse(readFileSync(new URL('../golden/zoo/state_dict_keys.json', import.meta.url), 'utf8')) as Record<ZooName, { count: number; sha256: string }>;

function keyDigest(m: ZooModel): { count: number; sha256: string } {
  // Sorted by UTF-16 code units, as Python sorts these ASCII strings.
  const lines = m.namedState().map(([k, p]) => `${k}:${p.shape.join('x')}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { count: lines.length, sha256: createHash('sha256').update(lines.join('\n')).digest('hex') };
}

const goldens = Object.fromEntries(zooNames.map((n) => [n, loadGolden(n)])) as Record<ZooName, ReturnType<typeof loadGolden>>;

function topK(row: Float32Array, k: number): number[] {
  return [...row.keys()].sort((a, b) => row[b] - row[a]).slice(0, k);
}

function expectTop5(got: Tensor, want: Tensor, what: string): void {
  const cols = want.shape[1];
  for (let r = 0; r < want.shape[0]; r++) {
    const g = got.data.subarray(r * cols, (r + 1) * cols);
    const w = want.data.subarray(r * cols, (r + 1) * cols);
    expect(topK(g, 5), `${what} row ${r}`).toEqual(topK(w, 5));
  }
}

function build(arch: ZooName, c?: Case): Promise<ZooModel> {
  const opts = c && !c.include_top ? { includeTop: false, pooling: c.pooling ?? undefined } : {};
  // transformInput is GoogLeNet's own option (the other builders refuse it: options are checked)
  return zoo[arch].build({ ...opts, ...(arch === 'googlenet' ? { transformInput: c?.transform_input ?? false } : {}) });
}

const worst: Record<string, number> = {};

describe.each(BACKENDS)('zoo vs PyTorch (%s)', (backend) => {
  beforeAll(async () => {
    await init({ backend });
  });
  for (const arch of zooNames) {
    const gold = goldens[arch];
    const cases = gold.cases.filter((c) => c.backends.includes(backend));
    if (!cases.length) continue;
    it(`${arch}: ${cases.map((c) => c.name).join(', ')}`, async () => {
      let full: ZooModel | undefined;
      for (const c of cases) {
        // Every case builds the configuration it names; weights come from the same seed.
        const model = c.include_top && !c.transform_input && full ? full : hashWeights(await build(arch, c), gold.seed);
        if (c.include_top && !c.transform_input) full = model;
        const got = model.forward(hashTensor(c.input_seed, 'input', c.shape));
        const want = gold.expected(c.name);
        expect(got.shape).toEqual(want.shape);
        worst[`${arch}/${c.name}/${backend}`] = expectClose(got.data, want.data, 1e-4, 1e-3, `${arch} ${c.name} (${backend})`);
        if (c.include_top) expectTop5(got, want, `${arch} ${c.name}`);
        if (model !== full) model.dispose();
      }
      if (full) {
        // The same state_dict keys and shapes as PyTorch's model, so its state dict loads unchanged.
        expect(keyDigest(full)).toEqual(torchKeys[arch]);
        // Parameter counts equal torchvision's (the golden metadata holds what PyTorch counted).
        expect(full.parameterCount()).toBe(gold.numParams);
        expect(full.meta.numParams).toBe(gold.numParams);
        expect(full.meta.flops).toBe(gold.flops);
        full.dispose();
      }
    });
  }
});

describe('zoo metadata', () => {
  it('registry metadata equals what PyTorch counted, for every architecture', () => {
    for (const arch of zooNames) {
      const m = zoo[arch].meta;
      const gold = goldens[arch];
      expect(m.numParams, arch).toBe(gold.numParams);
      expect(m.flops, arch).toBe(gold.flops);
      expect(m.minSize, arch).toBe(gold.minSize);
      expect(m.inputSize).toEqual([3, 224, 224]);
      expect(m.preprocessing).toMatchObject({ resize: 256, crop: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
      expect(m.categories).toBe('imagenet-1k');
    }
  });
});

describe('zoo behaviour', () => {
  beforeAll(async () => {
    await init({ backend: 'relaxed' });
  });

  it('hashed values match the Python reference bit for bit (first 16 of a few keys per model)', async () => {
    for (const arch of ['resnet18', 'resnet50', 'googlenet', 'alexnet'] as const) {
      const gold = goldens[arch];
      const m = await zoo[arch].build();
      const params = new Map(m.namedState());
      const keys = new Set(params.keys());
      for (const [key, want] of gold.checks) {
        const p = params.get(key);
        expect(p, `${arch} ${key}`).toBeDefined();
        const got = hashInto(new Float32Array(16), gold.seed, key, p!.shape, keys);
        expect([...got], `${arch} ${key}`).toEqual([...want.data]);
      }
      m.dispose();
    }
  });

  it('GoogLeNet skips the auxiliary classifiers of a torchvision state dict; num_batches_tracked may be absent', async () => {
    const src = hashWeights(await googlenet(), 3);
    const sd: Record<string, Tensor> = src.stateDict();
    for (const [k, shape] of Object.entries(goldens.googlenet.auxKeys)) sd[k] = hashTensor(1, k, shape);
    expect(Object.keys(goldens.googlenet.auxKeys)).toContain('aux1.fc2.weight');
    for (const k of Object.keys(sd)) if (k.endsWith('num_batches_tracked') && k.startsWith('inception4')) delete sd[k];
    const m = await googlenet({ weights: sd });
    const x = hashTensor(5, 'input', [1, 3, 64, 64]);
    expect(m.forward(x).data).toEqual(src.forward(x).data);
    // other unknown keys are still refused
    expect(() => m.loadStateDict({ ...sd, 'aux3.weight': tensor([1], [1]) })).toThrow(/unexpected keys: aux3\.weight/);
    m.dispose();
    src.dispose();
  });

  it('a full state dict loads strictly into a headless model (the classifier keys are skipped)', async () => {
    const full = hashWeights(await resnet18(), 11);
    const bytes = full.saveSafetensors();
    const head = await resnet18({ includeTop: false, pooling: 'avg', weights: bytes });
    const x = hashTensor(12, 'input', [1, 3, 64, 64]);
    const emb = head.forward(x);
    expect(emb.shape).toEqual([1, 512]);
    const direct = hashWeights(await resnet18({ includeTop: false, pooling: 'avg' }), 11).forward(x);
    expect(emb.data).toEqual(direct.data);
    expect(head.meta.numParams).toBe(11689512 - 513000);
    expect(head.meta.flops).toBe(zoo.resnet18.meta.flops - 2 * 512000);
    expect(head.meta.categories).toBeNull();
    full.dispose();
    head.dispose();
  });

  it('numClasses changes the head; metadata follows', async () => {
    const m = await resnet18({ numClasses: 10 });
    expect(m.meta.numParams).toBe(11689512 - 513000 + 5130);
    const y = m.forward(hashTensor(1, 'input', [2, 3, 32, 32]));
    expect(y.shape).toEqual([2, 10]);
    const full = hashWeights(await resnet18(), 1);
    expect(() => m.loadStateDict(full.stateDict())).toThrow(/fc\.weight: expected \[10, 512\], got \[1000, 512\].*resnet18 with 10 classes/);
    await expect(resnet18({ includeTop: false, numClasses: 10 })).rejects.toThrow(WasmzooError);
    await expect(resnet18({ pooling: 'avg' })).rejects.toThrow(/includeTop: false/);
    m.dispose();
    full.dispose();
  });

  it('rejects bad input naming the layer and both shapes, and stays usable', async () => {
    const m = hashWeights(await resnet18(), 2);
    const x = hashTensor(3, 'input', [1, 3, 64, 64]);
    const before = m.forward(x).data;
    expect(() => m.forward(tensor(new Float32Array(64 * 64), [1, 1, 64, 64]))).toThrow(/resnet18: expected input \[N, 3, H, W\].*got \[1, 1, 64, 64\]/);
    expect(() => m.forward(tensor(new Float32Array(3 * 64), [3, 64]))).toThrow(WasmzooError);
    expect(m.forward(x).data).toEqual(before);
    const g = await googlenet();
    expect(() => g.forward(tensor(new Float32Array(3 * 14 * 14), [1, 3, 14, 14]))).toThrow(/googlenet: expected input \[N, 3, H, W\] with H, W >= 15 .*got \[1, 3, 14, 14\]/);
    expect(g.forward(tensor(new Float32Array(3 * 15 * 15), [1, 3, 15, 15])).shape).toEqual([1, 1000]);
    g.dispose();
    m.dispose();
  });

  it('refuses weights of another architecture with the layer and both shapes, and stays unchanged', async () => {
    const m = hashWeights(await resnet18(), 2);
    const x = hashTensor(3, 'input', [1, 3, 64, 64]);
    const before = m.forward(x).data;
    const r34 = await resnet34();
    let err: unknown;
    try { m.loadStateDict(r34.stateDict()); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(WasmzooError);
    expect((err as WasmzooError).code).toBe('E_STATE_DICT');
    expect((err as WasmzooError).message).toMatch(/unexpected keys: .*layer1\.2\.conv1\.weight/);
    expect((err as WasmzooError).message).toMatch(/another architecture.*resnet18/);
    r34.dispose();
    const r50 = await resnet50();
    expect(() => m.loadStateDict(r50.stateDict())).toThrow(/layer1\.0\.conv1\.weight: expected \[64, 64, 3, 3\], got \[64, 64, 1, 1\]/);
    r50.dispose();
    expect(m.forward(x).data).toEqual(before);
    m.dispose();
  });

  it('weights from bytes, ArrayBuffer, Response, file path, file: URL and http URL', async () => {
    const src = hashWeights(await resnet18({ includeTop: false }), 4);
    const bytes = src.saveSafetensors();
    const x = hashTensor(5, 'input', [1, 3, 32, 32]);
    const want = src.forward(x).data;
    const dir = mkdtempSync(join(tmpdir(), 'wasmzoo-'));
    const path = join(dir, 'r18.safetensors');
    writeFileSync(path, bytes);
    const server = createServer((req, res) => {
      if (req.url === '/r18.safetensors') res.end(bytes);
      else { res.statusCode = 404; res.end(); }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const url = `http://127.0.0.1:${port}/r18.safetensors`;
      const sources = [bytes, bytes.slice().buffer, new Response(new Uint8Array(bytes)), path, pathToFileURL(path), pathToFileURL(path).href, url, new URL(url)];
      for (const s of sources) {
        const m = await resnet18({ includeTop: false, weights: s });
        expect(m.forward(x).data).toEqual(want);
        m.dispose();
      }
      await expect(resolveWeights(`http://127.0.0.1:${port}/missing`)).rejects.toThrow(/HTTP 404/);
      await expect(resolveWeights(join(dir, 'missing.safetensors'))).rejects.toThrow(/cannot read/);
      await expect(resolveWeights(42 as never)).rejects.toThrow(WasmzooError);
    } finally {
      server.close();
      src.dispose();
    }
  });
});

describe('zoo report', () => {
  it('worst absolute errors vs PyTorch', () => {
    console.log(Object.entries(worst).map(([k, v]) => `${k}: ${v.toExponential(2)}`).join('\n'));
  });
});

describe('winograd: false', () => {
  it('gives the same logits as the default with the raw-size weight memory', async () => {
    const { resnet18 } = await import('../../src/models/resnet.js');
    const { hashWeights: hw, hashTensor } = await import('../../src/models/hashweights.js');
    const { memoryStats, init } = await import('../../src/runtime/runtime.js');
    await init();
    const x = hashTensor(3, 'input', [1, 3, 64, 64]);
    const a = hw(await resnet18(), 5);
    const used0 = memoryStats()!.arenaUsed;
    const ya = a.forward(x);
    const fast = memoryStats()!.arenaUsed - used0;
    const b = hw(await resnet18({ winograd: false }), 5);
    const used1 = memoryStats()!.arenaUsed;
    const yb = b.forward(x);
    const lean = memoryStats()!.arenaUsed - used1;
    for (let i = 0; i < ya.data.length; i++) expect(Math.abs(ya.data[i] - yb.data[i])).toBeLessThan(1e-4 + 1e-3 * Math.abs(ya.data[i]));
    expect(lean).toBeLessThan(fast * 0.8);
    a.dispose();
    b.dispose();
  });
});
