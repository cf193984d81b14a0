/**
 * Shared by the platform smoke tests: paths, running a child process, and the one set of expectations
 * every runtime's probe report (fixtures/probe.mjs) must meet.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const DIST = join(ROOT, 'dist');
export const FIXTURES = join(ROOT, 'test/platform/fixtures');
export const BUNDLES = ['wasmzoo.mjs', 'wasmzoo.cjs', 'wasmzoo.iife.js', 'wasmzoo.min.js'] as const;
export const VARIANTS = ['scalar', 'simd', 'relaxed'] as const;
export const IN_CI = !!process.env.CI;

/** The tests exercise the built files: fail loudly (not skip) when `npm run build` has not run. */
export function assertBuilt(): void {
  const missing = [...BUNDLES, 'wasmzoo.d.ts', ...VARIANTS.map((v) => `wasm/wasmzoo.${v}.wasm`)].filter((f) => !existsSync(join(DIST, f)));
  if (missing.length) throw new Error(`dist/ is not built (missing ${missing.join(', ')}): run \`npm run build\` (npm test does it)`);
}

/**
 * A platform whose binary is absent is skipped with a reason, except in CI (CI=...), where absence is a failure.
 * Returns the title suffix to show and whether to skip.
 */
export function platform(name: string, binary: string, hint: string): { skip: boolean; title: string; present: boolean } {
  const present = existsSync(binary);
  const skip = !present && !IN_CI;
  if (skip) console.warn(`[platform] SKIPPING ${name}: ${binary} not found (${hint}); set CI=1 to make this a failure`);
  return { skip, present, title: skip ? `${name} (SKIPPED: ${binary} not found; ${hint})` : name };
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<RunResult> {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeout ?? 45_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      ok({ code, signal, stdout, stderr });
    });
  });
}

/** The probe prints one JSON line last; anything before it is the runtime's own chatter. */
export function parseReport(r: RunResult, what: string): Report {
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    if (r.code !== 0) throw new Error(`exit ${r.code ?? r.signal}`);
    return JSON.parse(line) as Report;
  } catch (e) {
    throw new Error(`${what} failed (${(e as Error).message})\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  }
}

export interface Report {
  errors: string[];
  exports: string[];
  backendBeforeInit: string | null;
  validates?: Record<string, boolean>;
  default?: { backend: string; idempotent: boolean; shape: number[]; data: number[]; isTensor: boolean } | null;
  forced?: Record<string, string> | null;
  defaultError?: unknown;
  module?: { backend: string; shape: number[]; data: number[]; isTensor: boolean } | null;
  threads?: { threads: number; reported: number; note: string | null; sameBits: boolean } | null;
  error?: unknown;
  [k: string]: unknown;
}

/**
 * The probe's LeNet-5 check (opts.lenet): the shipped weights classify shipped image 0, an ankle boot, as such,
 * on the variant the probe last initialised.
 */
export function expectLenet(r: Report, backend: string): void {
  expect(r.errors, 'probe steps that threw').toEqual([]);
  expect(r.lenet).toMatchObject({ backend, label: 'Ankle boot', predicted: 'Ankle boot' });
  expect((r.lenet as { probability: number }).probability).toBeGreaterThan(0.5);
}

/**
 * What every runtime must show. `expected` is the variant `init()` must pick; 'auto' means relaxed if the
 * engine validates the relaxed module, else simd (Node 20 without --experimental-wasm-relaxed-simd).
 */
export function expectHealthy(r: Report, expected: 'relaxed' | 'simd' | 'auto', opts: { module?: boolean; noCompile?: boolean } = {}): void {
  expect(r.errors, 'probe steps that threw').toEqual([]);
  expect(r.exports).toEqual(expect.arrayContaining(['init', 'backend', 'tensor', 'Tensor', 'WasmzooError']));
  expect(r.backendBeforeInit).toBeNull();
  const tensorOk = { shape: [3], data: [1, 2, 3], isTensor: true };
  if (!opts.noCompile) {
    const relaxedOk = r.validates ? r.validates.relaxed : true;
    if (r.validates) expect(r.validates, 'WebAssembly.validate of dist/wasm/*').toMatchObject({ scalar: true, simd: true });
    const want = expected === 'auto' ? (relaxedOk ? 'relaxed' : 'simd') : expected;
    expect(r.default).toEqual({ backend: want, idempotent: true, ...tensorOk });
    expect(r.forced?.scalar).toBe('scalar');
    expect(r.forced?.simd).toBe('simd');
    if (relaxedOk) expect(r.forced?.relaxed).toBe('relaxed');
    else expect(r.forced?.relaxed).toMatch(/^error: E_RUNTIME .*relaxed/);
  }
  if (opts.module !== false) expect(r.module).toEqual({ backend: 'simd', ...tensorOk });
  expect(r.error).toEqual({ isWasmzooError: true, code: 'E_SHAPE' });
}

/**
 * init({ threads: 2 }) in this runtime: `true` = two threads run and give one thread's bits; a RegExp = it
 * runs one thread and the note matches (the reason and the fix).
 */
export function expectThreads(r: Report, want: true | RegExp): void {
  expect(r.errors, 'probe steps that threw').toEqual([]);
  if (want === true) expect(r.threads).toEqual({ threads: 2, reported: 2, note: null, sameBits: true });
  else {
    expect(r.threads).toMatchObject({ threads: 1, reported: 1, sameBits: true });
    expect(r.threads!.note).toMatch(want);
  }
}
