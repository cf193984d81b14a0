/**
 * The command line on PyTorch checkpoints, as users run it (`node bin/wasmzoo.mjs`, over dist/): `inspect x.pth`
 * on torch's own fixtures, and `predict --weights x.pth` with the shipped LeNet-5 written as torch.save would
 * (test/io/pth-writer.mjs), which must give the same answer as the shipped safetensors file. The file names
 * carry no format hint: the format is told by the bytes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/io/safetensors.js';
import { assertBuilt, ROOT, run } from '../platform/helpers.js';
import { tensor, writePth } from './pth-writer.mjs';

const BIN = join(ROOT, 'bin/wasmzoo.mjs');
const env = { PATH: process.env.PATH, HOME: process.env.HOME };
const cli = (...args: string[]) => run(process.execPath, [BIN, ...args], { env });
const FIXTURES = join(ROOT, 'test/fixtures/pth');

describe('npx wasmzoo on .pth files', () => {
  let dir: string;
  beforeAll(() => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'wasmzoo-pth-cli-'));
    const shipped = readSafetensors(new Uint8Array(readFileSync(join(ROOT, 'weights/lenet5-fashion.safetensors'))));
    writeFileSync(join(dir, 'lenet5.weights'), writePth(shipped.names.map((n) => [n, tensor('F32', shipped.toFloat32(n), [...shipped.get(n).shape])]), { archive: 'lenet5' }));
    const samples = readSafetensors(new Uint8Array(readFileSync(join(ROOT, 'assets/fashion-samples.safetensors'))));
    const png = new PNG({ width: 28, height: 28 });
    const px = samples.get('images').bytes.subarray(0, 784); // sample 0: an ankle boot
    for (let i = 0; i < 784; i++) png.data.set([px[i]!, px[i]!, px[i]!, 255], 4 * i);
    writeFileSync(join(dir, 'boot.png'), PNG.sync.write(png));
  });
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('inspect a torch.save checkpoint: names, dtypes, shapes, parameters; nested and legacy files say where the state dict was', async () => {
    const r = await cli('inspect', join(FIXTURES, 'bf16.pth'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^.*bf16\.pth: [\d.]+ KiB, PyTorch checkpoint \(zip format\), 9 tensors$/m);
    expect(r.stdout).toMatch(/^ {2}conv\.weight +BF16 +\[3, 2, 3, 3\] +54$/m);
    expect(r.stdout).toMatch(/^ {2}bn\.num_batches_tracked +I64 +\[\] +1$/m);
    expect(r.stdout).toMatch(/^parameters: 115 \(\+ 7 buffer values\)$/m);
    const j = JSON.parse((await cli('inspect', join(FIXTURES, 'nested.pth'), '--json')).stdout);
    expect(j).toMatchObject({ format: 'pth-zip', container: 'state_dict', parameters: 115, values: 122 });
    expect((await cli('inspect', join(FIXTURES, 'legacy.pth'))).stdout).toMatch(/PyTorch checkpoint \(legacy format\), 9 tensors/);
  });

  it('inspect refuses a hostile checkpoint with one line naming the global, exit 1', async () => {
    const r = await cli('inspect', join(FIXTURES, 'malicious.pth'));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(/^wasmzoo: .*malicious\.pth: not a readable PyTorch checkpoint: pth malicious\/data\.pkl: global "posix\.system" is not allowed/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('predict --weights x.pth gives the shipped safetensors answer', async () => {
    const a = await cli('predict', 'lenet5', '--weights', join(dir, 'lenet5.weights'), '--input', join(dir, 'boot.png'), '--top', '3', '--json');
    expect(a.code, a.stderr).toBe(0);
    const b = await cli('predict', 'lenet5', '--weights', join(ROOT, 'weights/lenet5-fashion.safetensors'), '--input', join(dir, 'boot.png'), '--top', '3', '--json');
    const [ja, jb] = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
    expect(ja.top[0].label).toBe('Ankle boot');
    expect(ja.top).toEqual(jb.top);
    const bad = await cli('predict', 'lenet5', '--weights', join(FIXTURES, 'module.pth'), '--input', join(dir, 'boot.png'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/torch\.nn\.modules\.linear\.Linear" is not allowed/);
  });
});
