/**
 * The ONNX backend conformance suite (Debian's libonnx-testdata, /usr/share/libonnx-testdata/data: `node`,
 * `pytorch-converted`, `pytorch-operator`, `simple`), run through wasmzoo's ONNX session as ONNX's own runner
 * does: load each model.onnx, feed the input_N.pb files of each test_data_set_N in graph-input order, compare with output_N.pb at
 * rtol 1e-3, atol 1e-7 (exact for integers, booleans and strings; NaN equals NaN).
 *
 * A case is `unsupported` when the session refuses it at load with E_UNSUPPORTED (an op, attribute or dtype
 * wasmzoo does not run: the refusal lists them), `passed`, or `failed`. Every failure must be listed with its
 * reason in test/onnx/conformance-known.txt, else the test fails; a listed case that passes is reported so
 * the list shrinks. The summary line lands in the README.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeModel, decodeTensor } from '../../src/onnx/proto.js';
import { ProtoReader } from '../../src/onnx/protobuf.js';
import { OnnxModel } from '../../src/onnx/session.js';
import { instantiate, type Runtime } from '../../src/runtime/runtime.js';
import type { OnnxTensor } from '../../src/onnx/value.js';
import { WasmzooError } from '../../src/errors.js';

const ROOT = process.env.ONNX_TESTDATA ?? '/usr/share/libonnx-testdata/data';
const SUITES = ['node', 'pytorch-converted', 'pytorch-operator', 'simple'];
const RTOL = 1e-3, ATOL = 1e-7;

function known(): Map<string, string> {
  const m = new Map<string, string>();
  const text = readFileSync(new URL('./conformance-known.txt', import.meta.url), 'utf8');
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const sp = t.indexOf(' ');
    m.set(sp < 0 ? t : t.slice(0, sp), sp < 0 ? '' : t.slice(sp + 1).trim());
  }
  return m;
}

function readPb(path: string): OnnxTensor {
  const b = readFileSync(path);
  return decodeTensor(new ProtoReader(b, 0, b.length, 0, path.split('/').slice(-1)[0])).tensor;
}

/** Why `got` is not `want` at the tolerances, or undefined. */
export function mismatch(got: OnnxTensor | undefined, want: OnnxTensor): string | undefined {
  if (!got) return 'no output';
  if (got.dtype !== want.dtype) return `dtype ${got.dtype}, want ${want.dtype}`;
  if (got.dims.length !== want.dims.length || got.dims.some((d, i) => d !== want.dims[i])) return `dims [${got.dims}], want [${want.dims}]`;
  const a = got.data as ArrayLike<number | bigint | string>, b = want.data as ArrayLike<number | bigint | string>;
  const float = want.dtype === 'float32' || want.dtype === 'float64';
  for (let i = 0; i < b.length; i++) {
    const x = a[i], y = b[i];
    if (float) {
      const xn = x as number, yn = y as number;
      if (Number.isNaN(yn) ? !Number.isNaN(xn) : !(Math.abs(xn - yn) <= ATOL + RTOL * Math.abs(yn)) && xn !== yn) {
        return `element ${i}: ${xn}, want ${yn}`;
      }
    } else if (x !== y) return `element ${i}: ${x}, want ${y}`;
  }
  return undefined;
}

type Outcome = { status: 'passed' } | { status: 'unsupported'; why: string } | { status: 'failed'; why: string };

function runCase(dir: string, rt: Runtime): Outcome {
  let model: OnnxModel;
  try {
    model = new OnnxModel(decodeModel(readFileSync(join(dir, 'model.onnx'))), rt);
  } catch (e) {
    if (e instanceof WasmzooError && e.code === 'E_UNSUPPORTED') return { status: 'unsupported', why: e.message.split('\n').slice(1, 3).join('; ').trim() || e.message };
    return { status: 'failed', why: `load: ${(e as Error).message}` };
  }
  const sets = readdirSync(dir).filter((d) => d.startsWith('test_data_set')).sort();
  for (const set of sets) {
    const files = readdirSync(join(dir, set));
    const ins = files.filter((f) => /^input_\d+\.pb$/.test(f)).sort((a, b) => parseInt(a.slice(6)) - parseInt(b.slice(6)));
    const outs = files.filter((f) => /^output_\d+\.pb$/.test(f)).sort((a, b) => parseInt(a.slice(7)) - parseInt(b.slice(7)));
    let feeds: Record<string, OnnxTensor>, wants: OnnxTensor[];
    try {
      feeds = Object.fromEntries(ins.map((f, i) => [model.inputs[i]?.name ?? `#${i}`, readPb(join(dir, set, f))]));
      wants = outs.map((f) => readPb(join(dir, set, f)));
    } catch (e) {
      // Sequence / Optional test data (not tensors): wasmzoo runs tensors only
      return { status: 'unsupported', why: `test data: ${(e as Error).message}` };
    }
    let got: Record<string, OnnxTensor>;
    try {
      got = model.runTensors(feeds);
    } catch (e) {
      return { status: 'failed', why: `run: ${(e as Error).message}` };
    }
    for (let i = 0; i < wants.length; i++) {
      const why = mismatch(got[model.outputs[i].name], wants[i]);
      if (why) return { status: 'failed', why: `${set} output ${model.outputs[i].name}: ${why}` };
    }
  }
  return { status: 'passed' };
}

// CI installs the suite (.ci/run) and must run it; elsewhere it is skipped with a note when absent
const absent = !existsSync(ROOT);
if (absent && process.env.CI) throw new Error(`ONNX conformance data not found at ${ROOT}: apt-get install -y libonnx-testdata`);
if (absent) console.info(`[onnx] conformance suite skipped: ${ROOT} not found (apt-get install -y libonnx-testdata)`);
describe.skipIf(absent)('ONNX backend conformance suite', () => {
  it('every case whose ops are supported passes, or is listed with its reason', async () => {
    const rt = await instantiate({ threads: 1 });
    const list = known();
    const counts = { passed: 0, unsupported: 0, failed: 0 };
    const unexpected: string[] = [], fixed: string[] = [];
    const perSuite: Record<string, typeof counts> = {};
    const missing = new Map<string, number>();
    for (const suite of SUITES) {
      const base = join(ROOT, suite);
      if (!existsSync(base)) continue;
      const c = (perSuite[suite] = { passed: 0, unsupported: 0, failed: 0 });
      for (const name of readdirSync(base).sort()) {
        const dir = join(base, name);
        if (!existsSync(join(dir, 'model.onnx'))) continue;
        const id = `${suite}/${name}`;
        const r = runCase(dir, rt);
        counts[r.status]++;
        c[r.status]++;
        if (r.status === 'failed' && !list.has(id)) unexpected.push(`${id}: ${r.why}`);
        if (r.status === 'unsupported') {
          const ops = [...r.why.matchAll(/op (\w+) is not supported/g)].map((m) => m[1]);
          for (const op of ops.length ? new Set(ops) : ['(other: ' + r.why.replace(/^.*?\): /, '').slice(0, 60) + ')']) missing.set(op, (missing.get(op) ?? 0) + 1);
        }
        if (r.status === 'passed' && list.has(id)) fixed.push(id);
      }
    }
    const total = counts.passed + counts.unsupported + counts.failed;
    console.info(`[onnx] conformance: ${counts.passed} passed, ${counts.unsupported} unsupported, ${counts.failed} failed (of ${total}) ` +
      Object.entries(perSuite).map(([s, c]) => `${s} ${c.passed}/${c.unsupported}/${c.failed}`).join(', '));
    console.info(`[onnx] why cases are unsupported (cases per missing op or reason): ${[...missing].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    if (fixed.length) console.info(`[onnx] listed as failing but passing now (remove from conformance-known.txt): ${fixed.join(', ')}`);
    expect(unexpected, `failures not listed in test/onnx/conformance-known.txt (${unexpected.length})`).toEqual([]);
  }, 600_000);
});
