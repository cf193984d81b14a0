/**
 * LeNet-5 against PyTorch (test/golden/lenet5.safetensors, tools/gen_lenet_golden.py): both forms, 32x32
 * and 28x28 input, every kernel variant. Tolerance 1e-5 abs + 1e-4 rel on logits of magnitude ~1: float32
 * sums of up to 400 products in another order, plus ~1e-6 from the tanh approximation.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { lenet5 } from '../../src/models/lenet.js';
import { init, BACKENDS } from '../../src/runtime/runtime.js';
import { WasmzooError } from '../../src/errors.js';
import { tensor } from '../../src/tensor.js';
import { Golden } from '../golden/load.js';
import { expectClose } from '../kernels/harness.js';
import { readFileSync } from 'node:fs';

const golden = new Golden('lenet5.safetensors');
const prefixed = Object.fromEntries(Object.entries(golden.stateDictAll()).filter(([k]) => /^(conv|fc)\d\./.test(k)));

describe.each(BACKENDS)('LeNet-5 vs PyTorch (%s)', (backend) => {
  beforeAll(async () => {
    await init({ backend });
  });
  for (const [activation, pooling] of [['relu', 'max'], ['tanh', 'avg']] as const) {
    for (const size of [32, 28]) {
      it(`${activation}/${pooling} at ${size}x${size}`, async () => {
        const model = await lenet5({ weights: prefixed, activation, pooling });
        const got = model.forward(golden.tensor(`input.${size}`));
        const want = golden.tensor(`expected.${activation}_${pooling}.${size}`);
        expect(got.shape).toEqual(want.shape);
        expectClose(got.data, want.data, 1e-5, 1e-4, `lenet5 ${activation}/${pooling} ${size} (${backend})`);
        expect(got.argmax()).toEqual(want.argmax());
        model.dispose();
      });
    }
  }
});

describe('LeNet-5 behaviour', () => {
  it('loads from safetensors bytes, and round-trips its own state dict', async () => {
    const bytes = new Uint8Array(readFileSync(new URL('../golden/lenet5.safetensors', import.meta.url)));
    // The golden file also holds inputs and expected outputs: strict loading must refuse them by name.
    const m = await lenet5();
    expect(() => m.loadStateDict(bytes)).toThrow(/unexpected keys: .*input\.28/);
    m.loadStateDict(bytes, { strict: false });
    const again = await lenet5({ weights: m.saveSafetensors() });
    const x = golden.tensor('input.32');
    expect(again.forward(x).data).toEqual(m.forward(x).data);
  });

  it('names the layer and both shapes on a wrong input, and stays usable', async () => {
    const m = await lenet5({ weights: prefixed });
    const x = golden.tensor('input.32');
    const before = m.forward(x).data;
    expect(() => m.forward(tensor(new Float32Array(3 * 32 * 32), [1, 3, 32, 32]))).toThrow(/lenet5: expected input \[N, 1, 32, 32\] or \[N, 1, 28, 28\], got \[1, 3, 32, 32\]/);
    expect(() => m.forward(tensor(new Float32Array(30 * 30), [1, 1, 30, 30]))).toThrow(WasmzooError);
    expect(m.forward(x).data).toEqual(before);
  });

  it('reports every missing, unexpected and mismatched key at once and leaves the model unchanged', async () => {
    const m = await lenet5({ weights: prefixed });
    const x = golden.tensor('input.32');
    const before = m.forward(x).data;
    const bad = { ...prefixed };
    delete bad['fc3.bias'];
    bad['fc2.weight'] = tensor(new Float32Array(84 * 100), [84, 100]);
    bad['extra.weight'] = tensor([1], [1]);
    bad['conv1.weight'] = tensor(new Float32Array(150).fill(9), [6, 1, 5, 5]);
    let err: WasmzooError | undefined;
    try { m.loadStateDict(bad); } catch (e) { err = e as WasmzooError; }
    expect(err).toBeInstanceOf(WasmzooError);
    expect(err!.code).toBe('E_STATE_DICT');
    expect(err!.message).toMatch(/fc2\.weight: expected \[84, 120\], got \[84, 100\]/);
    expect(err!.message).toMatch(/missing keys: fc3\.bias/);
    expect(err!.message).toMatch(/unexpected keys: extra\.weight/);
    expect(m.forward(x).data).toEqual(before);
  });

  it('allocates nothing after the first call with a shape: arena high-water and memory size stay flat', async () => {
    const rt = await init({ backend: 'relaxed' });
    const m = await lenet5({ weights: prefixed });
    const x = golden.tensor('input.32');
    m.forward(x);
    const hw = rt.arena.highWater, mem = rt.arena.memory.buffer.byteLength, used = rt.arena.used;
    for (let i = 0; i < 200; i++) m.forward(x);
    expect(rt.arena.highWater).toBe(hw);
    expect(rt.arena.memory.buffer.byteLength).toBe(mem);
    expect(rt.arena.used).toBe(used);
    m.dispose();
    expect(rt.arena.used).toBeLessThan(used);
    expect(() => m.forward(x)).toThrow(/used after dispose/);
  });
});
