/**
 * The command line as users run it: `node bin/wasmzoo.mjs ...` (what `npx wasmzoo` runs) in child processes,
 * against dist/ (npm run build). Inputs are generated here: shipped Fashion-MNIST images written as PNG and
 * JPEG (upscaled, and on a light background, to exercise resizing and the auto-inversion), and bad files.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/io/safetensors.js';
import { assertBuilt, DIST, ROOT, run } from '../platform/helpers.js';

const BIN = join(ROOT, 'bin/wasmzoo.mjs');
const env = { PATH: process.env.PATH, HOME: process.env.HOME };
const cli = (...args: string[]) => run(process.execPath, [BIN, ...args], { env });
const cliWith = (extra: NodeJS.ProcessEnv, ...args: string[]) => run(process.execPath, [BIN, ...args], { env: { ...env, ...extra } });

/** Sample `i` as RGBA at `scale`x, optionally inverted (dark object on white, as a photo or drawing). */
function rgba(i: number, scale: number, invert: boolean): { data: Buffer; width: number; height: number } {
  const f = readSafetensors(new Uint8Array(readFileSync(join(ROOT, 'assets/fashion-samples.safetensors'))));
  const px = f.get('images').bytes.subarray(i * 784, (i + 1) * 784);
  const w = 28 * scale;
  const data = Buffer.alloc(w * w * 4);
  for (let y = 0; y < w; y++) {
    for (let x = 0; x < w; x++) {
      const v = px[Math.floor(y / scale) * 28 + Math.floor(x / scale)];
      const g = invert ? 255 - v : v;
      data.set([g, g, g, 255], (y * w + x) * 4);
    }
  }
  return { data, width: w, height: w };
}

describe('npx wasmzoo (bin/wasmzoo.mjs)', () => {
  let dir: string;
  beforeAll(() => {
    assertBuilt();
    if (!existsSync(join(DIST, 'cli.mjs'))) throw new Error('dist/cli.mjs missing: run `npm run build`');
    dir = mkdtempSync(join(tmpdir(), 'wasmzoo-cli-'));
    // image 0: ankle boot, image 1: pullover, image 2: trouser
    const png = new PNG({ width: 28, height: 28 });
    png.data = rgba(0, 1, false).data;
    writeFileSync(join(dir, 'boot.png'), PNG.sync.write(png));
    const big = rgba(2, 4, true); // 112x112, dark trousers on white
    const bigPng = new PNG({ width: big.width, height: big.height });
    bigPng.data = big.data;
    writeFileSync(join(dir, 'trouser-inverted.png'), PNG.sync.write(bigPng));
    writeFileSync(join(dir, 'trouser.jpg'), jpeg.encode(rgba(2, 3, false), 95).data);
    writeFileSync(join(dir, 'not-an-image.png'), 'hello');
    writeFileSync(join(dir, 'truncated.png'), PNG.sync.write(png).subarray(0, 60));
    writeFileSync(join(dir, 'bad.safetensors'), new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, 123, 125]));
  });
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('predict lenet5 on a PNG: the ankle boot comes first; --top 5 lists five', async () => {
    const r = await cli('predict', 'lenet5', '--weights', join(ROOT, 'weights/lenet5-fashion.safetensors'), '--input', join(dir, 'boot.png'), '--top', '5');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^lenet5 \((relaxed|simd)\) on .*boot\.png \(png 28x28 -> 28x28 grey\): [\d.]+ ms$/);
    expect(lines.slice(1)).toHaveLength(5);
    expect(lines[1]).toMatch(/^ {2}1\. Ankle boot +\d+\.\d%$/);
  });

  it('predict on a JPEG and on an upscaled dark-on-light PNG (resized, auto-inverted), --json', async () => {
    for (const f of ['trouser.jpg', 'trouser-inverted.png']) {
      const r = await cli('predict', 'lenet5', '--input', join(dir, f), '--top', '3', '--json');
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.top).toHaveLength(3);
      expect(out.top[0].label, f).toBe('Trouser');
    }
    const r = await cli('predict', 'lenet5', '--input', join(dir, 'trouser-inverted.png'), '--top', '1');
    expect(r.stdout).toMatch(/png 112x112 -> 28x28 grey, inverted \(light background\)/);
  });

  it('inspect lists names, dtypes, shapes and the parameter count', async () => {
    const r = await cli('inspect', join(ROOT, 'weights/lenet5-fashion.safetensors'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}conv1\.weight +F32 +\[6, 1, 5, 5\] +150$/m);
    expect(r.stdout).toMatch(/^ {2}fc3\.bias +F32 +\[10\] +10$/m);
    expect(r.stdout).toMatch(/^parameters: 61,706$/m);
    expect(r.stdout).toMatch(/test_accuracy: 0\.9070/);
    const j = JSON.parse((await cli('inspect', join(ROOT, 'weights/vae-fashion.safetensors'), '--json')).stdout);
    expect(j.parameters).toBe(207920);
    expect(j.tensors.find((t: { name: string }) => t.name === 'fc4.weight')).toEqual({ name: 'fc4.weight', dtype: 'F16', shape: [784, 128], numel: 100352 });
  });

  it('inspect piped into head stops quietly when head has read enough (no EPIPE crash)', async () => {
    const file = join(ROOT, 'test/fixtures/onnx/rnn_lstm_2l_bi_bf.onnx');
    const r = await run('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" inspect "${file}" | head -1`], { env });
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/rnn_lstm_2l_bi_bf\.onnx: .*ONNX IR/);
  });

  it('demo and bench run; the progress bar is drawn on stderr only when asked for (TTY)', async () => {
    const d = await cli('demo');
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/image {2}0: Ankle boot +ok/);
    expect(d.stdout).toMatch(/\d+\/64 correct on the shipped samples/);
    expect(d.stderr).toBe(''); // not a TTY: no bar
    const b = await cliWith({ WASMZOO_PROGRESS: '1' }, 'bench', 'lenet5', '--runs', '20');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/^lenet5 \((relaxed|simd)\), input \[1, 1, 28, 28\]: first call [\d.]+ ms \(plans memory\); median [\d.]+ ms, p90 [\d.]+ ms over 20 runs, [\d.]+ GFLOP\/s$/m);
    expect(b.stderr).toMatch(/\rbench lenet5 \[#+\] 100% 20\/20/);
  });

  const bad: [string, string[], number, RegExp][] = [
    ['no command', [], 2, /^usage: wasmzoo <command>/],
    ['unknown command', ['frobnicate'], 2, /^wasmzoo: unknown command "frobnicate"/],
    ['unknown option', ['demo', '--frob'], 2, /^wasmzoo: Unknown option '--frob'/],
    ['unknown model', ['predict', 'lenet7', '--input', 'x.png'], 2, /^wasmzoo: predict: unknown model "lenet7" \(choose one of: lenet5, alexnet, /],
    ['missing --input', ['predict', 'lenet5'], 2, /^wasmzoo: predict: --input IMAGE \(a PNG or JPEG\) is required$/],
    ['bad --top', ['predict', 'lenet5', '--input', 'x.png', '--top', 'three'], 2, /^wasmzoo: --top must be an integer from 1 to 10, got "three"$/],
    ['zoo model without weights', ['predict', 'resnet18', '--input', 'x.png'], 2, /^wasmzoo: predict: resnet18 needs --weights FILE\.safetensors/],
    ['missing image', ['predict', 'lenet5', '--input', '/nonexistent.png'], 1, /^wasmzoo: input \/nonexistent\.png: no such file$/],
    ['not an image', ['predict', 'lenet5', '--input', '@/not-an-image.png'], 1, /^wasmzoo: .*not-an-image\.png: not a PNG or JPEG file$/],
    // issue 12: the decoder's internals ("There are some read requests waitng on finished stream") are not shown
    ['truncated PNG', ['predict', 'lenet5', '--input', '@/truncated.png'], 1, /^wasmzoo: input .*truncated\.png: truncated or corrupt PNG$/],
    ['weights of another model', ['predict', 'lenet5', '--input', '@/boot.png', '--weights', 'weights/vae-fashion.safetensors'], 1, /^wasmzoo: weights\/vae-fashion\.safetensors: .*(missing|unexpected)/],
    ['bad safetensors', ['inspect', '@/bad.safetensors'], 1, /^wasmzoo: .*bad\.safetensors: not a valid safetensors file: /],
    ['predict with bad safetensors', ['predict', 'lenet5', '--input', '@/boot.png', '--weights', '@/bad.safetensors'], 1, /^wasmzoo: .*bad\.safetensors: not a valid safetensors file: /],
    // issue 12: two architectures differ in ~100 keys; the line shows the first few and the counts (it was 3 KB)
    ['weights of another architecture', ['predict', 'resnet18', '--input', '@/boot.png', '--weights', 'weights/lenet5-fashion.safetensors'], 1,
      /^wasmzoo: weights\/lenet5-fashion\.safetensors: resnet18: cannot load state dict: .*missing keys: bn1\.weight, .* and \d+ more \(101 in all\)\. unexpected keys: .* and 4 more \(9 in all\)/],
    ['inspect a directory', ['inspect', '/tmp'], 1, /^wasmzoo: file \/tmp: is a directory$/],
  ];
  it.each(bad)('%s: one clear line, non-zero exit', async (_t, args, code, message) => {
    const r = await cli(...args.map((a) => a.replace(/^@/, dir)));
    expect(r.code, r.stdout + r.stderr).toBe(code);
    expect(r.stdout).toBe('');
    if (args.length) expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
    if (args.length) expect(r.stderr.length).toBeLessThan(600); // (no command prints the usage)
  });

  it('predict and inspect describe a bad safetensors file in the same words', async () => {
    const i = await cli('inspect', join(dir, 'bad.safetensors'));
    const p = await cli('predict', 'lenet5', '--input', join(dir, 'boot.png'), '--weights', join(dir, 'bad.safetensors'));
    expect(p.stderr).toBe(i.stderr);
  });
});
