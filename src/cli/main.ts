/**
 * `npx wasmzoo <command>`: the package's command line (bin/wasmzoo.mjs -> dist/cli.mjs, built by rollup with the
 * library kept external as ./wasmzoo.mjs, so the CLI runs the same bundle users import).
 *
 *   demo                                   LeNet-5 on the 64 shipped Fashion-MNIST images
 *   predict <model> --input IMG [--weights FILE] [--top 5] [--json]
 *   predict FILE.onnx --input IMG [--size 224] [--labels imagenet|none] [--top 5] [--json]
 *   inspect FILE.safetensors [--json]      names, dtypes, shapes, parameter count, metadata
 *   inspect FILE.pth [--json]              the same for a PyTorch checkpoint (told apart by magic bytes)
 *   inspect FILE.onnx [--json]             ops, inputs/outputs, parameter count, unsupported ops
 *   bench [model] [--runs N] [--batch N]   a quick single-model timing
 *
 * Bad arguments and bad files print one line `wasmzoo: <what is wrong>` on stderr and exit non-zero (2 for
 * usage errors, 1 for bad input files). Long work draws a progress bar on stderr when it is a terminal.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as wasmzoo from '../index.js';
import * as onnx from '../onnx/index.js';
import type { Module } from '../nn/module.js';
import type { ZooName } from '../index.js';
import { borderMean, CliError, decodeImage } from './image.js';
import { formatBytes, progressBar } from './progress.js';

const PKG_ROOT = new URL('../', import.meta.url);
const SHIPPED = {
  lenet5: new URL('weights/lenet5-fashion.safetensors', PKG_ROOT),
  samples: new URL('assets/fashion-samples.safetensors', PKG_ROOT),
};
const [FASHION_MEAN] = wasmzoo.FASHION_MNIST_MEAN;
const [FASHION_STD] = wasmzoo.FASHION_MNIST_STD;

const USAGE = `usage: wasmzoo <command> [options]

commands:
  demo                                  LeNet-5 (shipped Fashion-MNIST weights) on the 64 shipped sample images
  predict <model> --input IMAGE         classify a PNG or JPEG
          [--weights FILE] [--top 5] [--json]
          model: lenet5 (28x28 grey, Fashion-MNIST; shipped weights by default) or a zoo model
          (${wasmzoo.zooNames.join(', ')}; ImageNet preprocessing; --weights required)
  predict FILE.onnx --input IMAGE       classify with an ONNX image classifier (ImageNet preprocessing)
          [--size 224] [--labels imagenet|none] [--top 5] [--json]
          the input size comes from the model when fixed, else --size (default 224)
  inspect FILE.safetensors [--json]     tensor names, dtypes, shapes, parameter count, metadata
  inspect FILE.pth [--json]             the same for a PyTorch checkpoint (torch.save of a state_dict)
  inspect FILE.onnx [--json]            ops, inputs/outputs, parameter count, what wasmzoo cannot run
  bench [model] [--runs N] [--batch N]  time one model's forward pass (default lenet5)

options:
  --backend relaxed|simd|scalar         force a kernel variant
  -h, --help, -v, --version`;

type Values = Record<string, string | boolean | undefined>;

export async function main(argv: string[]): Promise<number> {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        weights: { type: 'string' },
        input: { type: 'string', short: 'i' },
        top: { type: 'string', short: 'k' },
        runs: { type: 'string' },
        batch: { type: 'string' },
        size: { type: 'string' },
        labels: { type: 'string' },
        backend: { type: 'string' },
        invert: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    }) as { values: Values; positionals: string[] };
  } catch (e) {
    throw new CliError(`${(e as Error).message.split('\n')[0]} (see wasmzoo --help)`, 2);
  }
  const { values: o, positionals: [cmd, ...rest] } = parsed;
  if (o.version) {
    console.log(JSON.parse(await readFile(new URL('package.json', PKG_ROOT), 'utf8')).version);
    return 0;
  }
  if (o.help || cmd === 'help' || cmd === undefined) {
    (cmd === undefined && !o.help ? console.error : console.log)(USAGE);
    return cmd === undefined && !o.help ? 2 : 0;
  }
  if (o.backend !== undefined && !['relaxed', 'simd', 'scalar'].includes(o.backend as string)) {
    throw new CliError(`--backend must be relaxed, simd or scalar, got ${JSON.stringify(o.backend)}`, 2);
  }
  const init = o.backend ? { backend: o.backend as wasmzoo.Backend } : undefined;
  switch (cmd) {
    case 'demo':
      noExtra(cmd, rest, 0);
      return demo(init);
    case 'predict':
      noExtra(cmd, rest, 1);
      return predict(rest[0], o, init);
    case 'inspect':
      noExtra(cmd, rest, 1);
      if (!rest[0]) throw new CliError('inspect: which file? (wasmzoo inspect FILE.safetensors)', 2);
      return inspect(rest[0], !!o.json);
    case 'bench':
      noExtra(cmd, rest, 1);
      return bench(rest[0] ?? 'lenet5', o, init);
    default:
      throw new CliError(`unknown command ${JSON.stringify(cmd)} (commands: demo, predict, inspect, bench; see wasmzoo --help)`, 2);
  }
}

function noExtra(cmd: string, rest: string[], max: number): void {
  if (rest.length > max) throw new CliError(`${cmd}: unexpected argument ${JSON.stringify(rest[max])} (see wasmzoo --help)`, 2);
}

function positiveInt(name: string, v: string | boolean | undefined, dflt: number, max = 1e6): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new CliError(`--${name} must be an integer from 1 to ${max}, got ${JSON.stringify(v)}`, 2);
  return n;
}

async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`${what} ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
  }
}

/** Weights from a path or URL, with a progress bar (big zoo files take a while). */
async function loadWeightFile(src: string): Promise<Uint8Array> {
  const bar = progressBar('weights');
  try {
    return await wasmzoo.loadWeights(src, {
      onProgress: ({ loaded, total }) => bar.update(loaded, total, `${formatBytes(loaded)}${total ? ` / ${formatBytes(total)}` : ''}`),
    });
  } catch (e) {
    if (e instanceof wasmzoo.WasmzooError) throw new CliError(`--weights ${e.message.replace(/^weights: /, '')}`);
    throw e;
  } finally {
    bar.done();
  }
}

// ---- demo -----------------------------------------------------------------------------------------------

async function demo(init: wasmzoo.InitOptions | undefined): Promise<number> {
  const model = await wasmzoo.lenet5({ weights: await readBytes(fileURLToPath(SHIPPED.lenet5), 'weights'), init });
  console.log(`wasmzoo ${wasmzoo.backend()} backend, LeNet-5 (${model.parameterCount()} parameters)`);
  const samples = wasmzoo.readSafetensors(await readBytes(fileURLToPath(SHIPPED.samples), 'samples'));
  const images = samples.get('images').bytes;
  const labels = samples.toNumbers('labels');
  const n = labels.length;
  const input = wasmzoo.tensor(Float32Array.from(images, (p) => (p / 255 - FASHION_MEAN) / FASHION_STD), [n, 1, 28, 28]);
  const t0 = performance.now();
  const logits = model.forward(input);
  const first = performance.now() - t0;
  const reps = 50;
  const bar = progressBar('timing');
  const t1 = performance.now();
  for (let r = 0; r < reps; r++) {
    model.forward(input);
    bar.update(r + 1, reps);
  }
  const each = (performance.now() - t1) / reps;
  bar.done();
  const predicted = logits.argmax();
  const names = wasmzoo.fashionMnistClasses;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const ok = predicted[i] === labels[i];
    correct += ok ? 1 : 0;
    if (i < 12) console.log(`  image ${String(i).padStart(2)}: ${names[predicted[i]].padEnd(12)} ${ok ? 'ok' : `(label: ${names[labels[i]]})`}`);
  }
  console.log(`  ... ${correct}/${n} correct on the shipped samples`);
  console.log(`batch of ${n}: ${first.toFixed(2)} ms first call (plans memory), ${each.toFixed(2)} ms per call after`);
  model.dispose();
  return 0;
}

// ---- predict --------------------------------------------------------------------------------------------

function modelName(name: string | undefined, cmd: string): 'lenet5' | ZooName {
  const all = ['lenet5', ...wasmzoo.zooNames];
  if (!name) throw new CliError(`${cmd}: which model? (${all.join(', ')})`, 2);
  if (!all.includes(name)) throw new CliError(`${cmd}: unknown model ${JSON.stringify(name)} (choose one of: ${all.join(', ')})`, 2);
  return name as 'lenet5' | ZooName;
}

async function predict(name: string | undefined, o: Values, init: wasmzoo.InitOptions | undefined): Promise<number> {
  if (name && /\.onnx$/i.test(name)) return predictOnnx(name, o, init);
  for (const k of ['size', 'labels'] as const) if (o[k] !== undefined) throw new CliError(`predict: --${k} is for .onnx models`, 2);
  const model = modelName(name, 'predict');
  if (typeof o.input !== 'string') throw new CliError('predict: --input IMAGE (a PNG or JPEG) is required', 2);
  const top = positiveInt('top', o.top, 5, model === 'lenet5' ? 10 : 1000);
  if (model !== 'lenet5' && typeof o.weights !== 'string') {
    throw new CliError(`predict: ${model} needs --weights FILE.safetensors or FILE.pth (a torchvision state_dict, as torch.save wrote it or converted)`, 2);
  }
  const invert = (o.invert ?? 'auto') as string;
  if (!['auto', 'yes', 'no'].includes(invert)) throw new CliError(`--invert must be auto, yes or no, got ${JSON.stringify(invert)}`, 2);
  const image = decodeImage(await readBytes(o.input, 'input'), `input ${o.input}`);
  const weights = typeof o.weights === 'string' ? await loadWeightFile(o.weights) : await readBytes(fileURLToPath(SHIPPED.lenet5), 'weights');

  let net: Module;
  let x: wasmzoo.Tensor;
  let labels: readonly string[];
  let note = '';
  try {
    if (model === 'lenet5') {
      net = await wasmzoo.lenet5({ weights, init });
      // Fashion-MNIST is a light object on black: a light background (a photo, a drawing) is inverted.
      const inv = invert === 'yes' || (invert === 'auto' && borderMean(image) > 127);
      const t = wasmzoo.preprocess(image, { ...wasmzoo.FASHION_MNIST_PRESET, mean: [0], std: [1] }); // normalised after the inversion
      x = wasmzoo.tensor(Float32Array.from(t.data, (v) => ((inv ? 1 - v : v) - FASHION_MEAN) / FASHION_STD), [1, 1, 28, 28]);
      labels = wasmzoo.fashionMnistClasses;
      note = `28x28 grey${inv ? ', inverted (light background)' : ''}`;
    } else {
      const bar = progressBar(`building ${model}`);
      bar.update(0, undefined, '...');
      try {
        net = await wasmzoo.zoo[model].build({ weights, init });
      } finally {
        bar.done();
      }
      x = wasmzoo.preprocessImageNet(image);
      labels = wasmzoo.imagenetClasses;
      note = '224x224 RGB, ImageNet preset';
    }
  } catch (e) {
    if (e instanceof wasmzoo.WasmzooError) throw new CliError(fileProblem(typeof o.weights === 'string' ? o.weights : 'weights', e));
    throw e;
  }
  const t0 = performance.now();
  const logits = net.forward(x);
  const ms = performance.now() - t0;
  const best = wasmzoo.topK(logits, top, labels)[0];
  net.dispose();
  if (o.json) {
    console.log(JSON.stringify({ model, backend: wasmzoo.backend(), input: o.input, ms, top: best }));
    return 0;
  }
  console.log(`${model} (${wasmzoo.backend()}) on ${o.input} (${image.format} ${image.width}x${image.height} -> ${note}): ${ms.toFixed(2)} ms`);
  const w = Math.max(...best.map((e) => (e.label ?? String(e.index)).length));
  best.forEach((e, i) => console.log(`  ${i + 1}. ${(e.label ?? String(e.index)).padEnd(w)}  ${(e.probability * 100).toFixed(1).padStart(5)}%`));
  return 0;
}

/**
 * An ONNX image classifier: one input [N, 3, H, W] (N 1 or symbolic), ImageNet preprocessing to H x W when the
 * file fixes them (else --size): shorter side to size / 0.875, then the center crop, as torchvision's preset
 * (256 -> 224). The output is read as one row of class scores; ImageNet labels when it has 1000 classes.
 */
async function predictOnnx(path: string, o: Values, init: wasmzoo.InitOptions | undefined): Promise<number> {
  if (typeof o.input !== 'string') throw new CliError('predict: --input IMAGE (a PNG or JPEG) is required', 2);
  if (o.weights !== undefined) throw new CliError('predict: an .onnx file holds its weights; --weights is for zoo models', 2);
  const labelsOpt = (o.labels ?? 'auto') as string;
  if (!['auto', 'imagenet', 'none'].includes(labelsOpt)) throw new CliError(`--labels must be imagenet or none, got ${JSON.stringify(labelsOpt)}`, 2);
  const sizeOpt = o.size === undefined ? undefined : positiveInt('size', o.size, 224, 4096);
  const top = positiveInt('top', o.top, 5, 100000);
  const bytes = await readBytes(path, 'model');
  const image = decodeImage(await readBytes(o.input, 'input'), o.input);
  if (init) await wasmzoo.init(init);
  let model: onnx.OnnxModel;
  try {
    model = await onnx.loadOnnx(bytes);
  } catch (e) {
    if (e instanceof wasmzoo.WasmzooError) throw new CliError(`${path}: ${e.message}`);
    throw e;
  }
  const input = model.inputs[0];
  const shape = input?.shape;
  if (model.inputs.length !== 1 || !shape || shape.length !== 4 || shape[1] !== 3 || (input.dtype && input.dtype !== 'float32')) {
    const got = model.inputs.map((v) => `${v.name}: ${v.dtype ?? '?'} [${v.shape?.map((d) => d ?? '?').join(', ') ?? '?'}]`).join('; ');
    throw new CliError(`${path}: predict needs an image classifier with one float32 input [N, 3, H, W]; this model takes ${got || 'no input'}`);
  }
  if (typeof shape[0] === 'number' && shape[0] !== 1) throw new CliError(`${path}: the input's batch dim is fixed at ${shape[0]}; predict classifies one image`);
  const fixed = typeof shape[2] === 'number' && typeof shape[3] === 'number';
  let h: number, w: number;
  if (fixed) {
    [h, w] = [shape[2] as number, shape[3] as number];
    if (sizeOpt !== undefined && (sizeOpt !== h || sizeOpt !== w)) throw new CliError(`--size ${sizeOpt}: ${path} takes ${h}x${w} images only`, 2);
  } else {
    h = typeof shape[2] === 'number' ? shape[2] : sizeOpt ?? 224;
    w = typeof shape[3] === 'number' ? shape[3] : sizeOpt ?? 224;
  }
  const x = wasmzoo.preprocessImageNet(image, { resize: Math.round(Math.max(h, w) / 0.875), crop: [h, w] });
  const t0 = performance.now();
  let y: wasmzoo.Tensor;
  try {
    y = model.forward(x);
  } catch (e) {
    if (e instanceof wasmzoo.WasmzooError) throw new CliError(`${path}: ${e.message}`);
    throw e;
  }
  const ms = performance.now() - t0;
  const classes = y.size;
  if (y.shape[0] !== 1 || classes < 1) throw new CliError(`${path}: output '${model.outputs[0].name}' has shape [${y.shape.join(', ')}], not one row of class scores`);
  if (labelsOpt === 'imagenet' && classes !== 1000) throw new CliError(`--labels imagenet: the model gives ${classes} classes, ImageNet has 1000`, 2);
  const useImagenet = labelsOpt === 'imagenet' || (labelsOpt === 'auto' && classes === 1000);
  const row = y.data.subarray(0, classes);
  // a model that ends in Softmax already gives probabilities: show them, not a softmax of them
  let sum = 0;
  for (const v of row) sum += v;
  const probabilities = row.every((v) => v >= 0 && v <= 1) && Math.abs(sum - 1) < 1e-3;
  const best = wasmzoo.topK(row, top, useImagenet ? wasmzoo.imagenetClasses : Array.from({ length: classes }, () => ''))[0].map((e) => ({
    index: e.index, label: useImagenet ? e.label : undefined, logit: e.logit, probability: probabilities ? e.logit : e.probability,
  }));
  if (o.json) {
    console.log(JSON.stringify({ model: path, backend: wasmzoo.backend(), input: o.input, size: [h, w], ms, classes, top: best }));
    return 0;
  }
  console.log(`${basename(path)} (${wasmzoo.backend()}) on ${o.input} (${image.format} ${image.width}x${image.height} -> ${w}x${h} RGB, ImageNet preset): ${ms.toFixed(2)} ms`);
  const idx = best.map((e) => `[${e.index}]`);
  const iw = Math.max(...idx.map((s) => s.length));
  const lw = Math.max(0, ...best.map((e) => e.label?.length ?? 0));
  best.forEach((e, i) => console.log(`  ${i + 1}. ${idx[i].padEnd(iw)} ${lw ? `${(e.label ?? '').padEnd(lw)}  ` : ''}${(e.probability * 100).toFixed(1).padStart(5)}%`));
  return 0;
}

// ---- inspect --------------------------------------------------------------------------------------------

/** A weight file's problem as one line, the same for inspect and predict: what kind of problem, then the reader's words. */
function fileProblem(path: string, e: wasmzoo.WasmzooError): string {
  return e.code === 'E_SAFETENSORS' ? `${path}: not a valid safetensors file: ${e.message}` : `${path}: ${e.message}`;
}

async function inspect(path: string, json: boolean): Promise<number> {
  const bytes = await readBytes(path, 'file');
  if (/\.onnx$/i.test(path)) return inspectOnnx(path, bytes, json);
  if (wasmzoo.isPth(bytes)) return inspectPth(path, bytes, json);
  let f: ReturnType<typeof wasmzoo.readSafetensors>;
  try {
    f = wasmzoo.readSafetensors(bytes);
  } catch (e) {
    if (e instanceof wasmzoo.WasmzooError) throw new CliError(fileProblem(path, e));
    throw e;
  }
  return printTensors(path, bytes, f, json, { metadata: f.metadata }, [
    `${path}: ${formatBytes(bytes.byteLength)}, ${f.names.length} tensors`,
    ...Object.entries(f.metadata ?? {}).map(([k, v]) => `  ${k}: ${v}`),
  ]);
}

/**
 * The tensor table of a weight file (safetensors or a PyTorch checkpoint): `head` lines, then name, dtype,
 * shape and size of each tensor and the parameter count; or, with --json, one object with `extra`'s fields.
 */
function printTensors(path: string, bytes: Uint8Array, f: { names: readonly string[]; get(name: string): { dtype: string; shape: readonly number[] } },
  json: boolean, extra: Record<string, unknown>, head: string[]): number {
  const rows = f.names.map((name) => {
    const t = f.get(name);
    return { name, dtype: t.dtype, shape: [...t.shape], numel: t.shape.reduce((a, b) => a * b, 1) };
  });
  const total = rows.reduce((a, r) => a + r.numel, 0);
  // Running statistics and counters are state, not parameters (as torchvision's num_params).
  const params = rows.filter((r) => !/(^|\.)(running_mean|running_var|num_batches_tracked)$/.test(r.name)).reduce((a, r) => a + r.numel, 0);
  if (json) {
    console.log(JSON.stringify({ file: path, bytes: bytes.byteLength, ...extra, tensors: rows, values: total, parameters: params }));
    return 0;
  }
  for (const line of head) console.log(line);
  const nw = Math.max(4, ...rows.map((r) => r.name.length));
  const shapes = rows.map((r) => `[${r.shape.join(', ')}]`);
  const sw = Math.max(5, ...shapes.map((x) => x.length));
  console.log(`  ${'name'.padEnd(nw)}  dtype  ${'shape'.padEnd(sw)}  values`);
  rows.forEach((r, i) => console.log(`  ${r.name.padEnd(nw)}  ${r.dtype.padEnd(5)}  ${shapes[i].padEnd(sw)}  ${r.numel.toLocaleString('en-US')}`));
  console.log(`parameters: ${params.toLocaleString('en-US')}${params !== total ? ` (+ ${(total - params).toLocaleString('en-US')} buffer values)` : ''}`);
  return 0;
}

/** A PyTorch checkpoint (told apart by its magic bytes): the state dict's tensors, as for safetensors. */
async function inspectPth(path: string, bytes: Uint8Array, json: boolean): Promise<number> {
  let f: wasmzoo.PthFile;
  try {
    f = wasmzoo.readPth(bytes);
  } catch (e) {
    if (e instanceof wasmzoo.WasmzooError) throw new CliError(`${path}: not a readable PyTorch checkpoint: ${e.message}`);
    throw e;
  }
  const where = f.container ? `, state dict under ${JSON.stringify(f.container)}` : '';
  return printTensors(path, bytes, f, json, { format: `pth-${f.format}`, container: f.container, skipped: f.skipped }, [
    `${path}: ${formatBytes(bytes.byteLength)}, PyTorch checkpoint (${f.format} format${where}), ${f.names.length} tensors`,
    ...(f.skipped.length ? [`  not tensors (skipped): ${f.skipped.slice(0, 8).join(', ')}${f.skipped.length > 8 ? ', ...' : ''}`] : []),
  ]);
}

/** An ONNX file: producer, opset, inputs/outputs, op counts, parameters, and what wasmzoo does not run. */
async function inspectOnnx(path: string, bytes: Uint8Array, json: boolean): Promise<number> {
  let r: onnx.OnnxReport;
  try {
    r = await onnx.inspectOnnx(bytes);
  } catch (e) {
    if (e instanceof wasmzoo.WasmzooError) throw new CliError(`${path}: not a valid ONNX file: ${e.message}`);
    throw e;
  }
  if (json) {
    console.log(JSON.stringify({ file: path, bytes: bytes.byteLength, ...r }));
    return 0;
  }
  const dims = (s: Array<number | string | null> | undefined) => (s ? `[${s.map((d) => d ?? '?').join(', ')}]` : '[?]');
  console.log(`${path}: ${formatBytes(bytes.byteLength)}, ONNX IR ${r.irVersion}, opset ${r.opset ?? '?'}${r.producer ? `, from ${r.producer}` : ''}`);
  for (const v of r.inputs) console.log(`  input  ${v.name}: ${v.dtype ?? '?'} ${dims(v.shape)}`);
  for (const v of r.outputs) console.log(`  output ${v.name}: ${v.dtype ?? '?'} ${dims(v.shape)}`);
  console.log(`  ${r.nodes} nodes: ${Object.entries(r.ops).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`parameters: ${r.parameters.toLocaleString('en-US')}`);
  if (r.unsupported.length) {
    console.log(`not runnable on wasmzoo (${r.unsupported.length}):`);
    for (const u of r.unsupported) console.log(`  ${u}`);
  } else console.log('runs on wasmzoo: every op is supported');
  return 0;
}

// ---- bench ----------------------------------------------------------------------------------------------

async function bench(name: string, o: Values, init: wasmzoo.InitOptions | undefined): Promise<number> {
  const model = modelName(name, 'bench');
  const batch = positiveInt('batch', o.batch, 1, 256);
  const runs = positiveInt('runs', o.runs, model === 'lenet5' ? 200 : 10, 100000);
  let net: Module;
  let shape: number[];
  let flops: number | undefined;
  if (model === 'lenet5') {
    net = await wasmzoo.lenet5({ weights: await readBytes(fileURLToPath(SHIPPED.lenet5), 'weights'), init });
    shape = [batch, 1, 28, 28];
    flops = 2 * (28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10) * batch;
  } else {
    const m = typeof o.weights === 'string' ? await loadWeightFile(o.weights) : undefined;
    const built = await wasmzoo.zoo[model].build({ weights: m, init });
    if (!m) wasmzoo.hashWeights(built, 1); // deterministic stand-in weights: the timing does not depend on them
    net = built;
    shape = [batch, ...built.meta.inputSize];
    flops = built.meta.flops * batch;
  }
  let seed = 1;
  const x = wasmzoo.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1), shape);
  const t0 = performance.now();
  net.forward(x);
  const first = performance.now() - t0;
  const times: number[] = [];
  const bar = progressBar(`bench ${model}`);
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    net.forward(x);
    times.push(performance.now() - t);
    bar.update(r + 1, runs, `${r + 1}/${runs}`);
  }
  bar.done();
  net.dispose();
  times.sort((a, b) => a - b);
  const med = times[Math.floor(times.length / 2)];
  const p90 = times[Math.min(times.length - 1, Math.floor(times.length * 0.9))];
  const gf = flops ? `, ${(flops / med / 1e6).toFixed(1)} GFLOP/s` : '';
  if (o.json) {
    console.log(JSON.stringify({ model, backend: wasmzoo.backend(), batch, runs, firstMs: first, medianMs: med, p90Ms: p90, flops }));
    return 0;
  }
  console.log(`${model} (${wasmzoo.backend()}), input [${shape.join(', ')}]: first call ${first.toFixed(2)} ms (plans memory); ` +
    `median ${med.toFixed(3)} ms, p90 ${p90.toFixed(3)} ms over ${runs} runs${gf}`);
  return 0;
}

/** Entry point for bin/wasmzoo.mjs: one line per error, non-zero exit. */
export async function run(argv: string[]): Promise<void> {
  // `wasmzoo inspect big.onnx | head`: the reader went away; stop quietly, as cat does (it crashed on EPIPE)
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  try {
    process.exitCode = await main(argv);
  } catch (e) {
    if (e instanceof CliError) {
      console.error(`wasmzoo: ${e.message}`);
      process.exitCode = e.exitCode;
    } else if (e instanceof wasmzoo.WasmzooError) {
      console.error(`wasmzoo: ${e.message}`);
      process.exitCode = 1;
    } else {
      console.error(`wasmzoo: internal error: ${(e as Error)?.stack ?? e}`);
      process.exitCode = 70;
    }
  }
}
