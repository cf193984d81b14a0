/**
 * workerd (Cloudflare's edge-worker runtime, from the `workerd` npm package): a worker bundling
 * dist/wasmzoo.mjs and dist/wasm/wasmzoo.simd.wasm as a wasm module (a precompiled WebAssembly.Module),
 * served on 127.0.0.1 and passed to init({ module }); LeNet-5 weights and the sample images are embedded as data
 * modules, and the worker classifies a shipped image.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, DIST, expectHealthy, expectLenet, FIXTURES, platform, ROOT, run, type Report } from './helpers.js';

const WORKERD = join(ROOT, 'node_modules/.bin/workerd');
const p = platform('workerd', WORKERD, 'npm ci installs it from the `workerd` devDependency');

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

const config = (port: number) => `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "wasmzoo.mjs", esModule = embed "wasmzoo.mjs"),
    (name = "probe.mjs", esModule = embed "probe.mjs"),
    (name = "wasmzoo.simd.wasm", wasm = embed "wasmzoo.simd.wasm"),
    (name = "lenet5-fashion.safetensors", data = embed "lenet5-fashion.safetensors"),
    (name = "fashion-samples.safetensors", data = embed "fashion-samples.safetensors"),
  ],
  compatibilityDate = "2024-09-23",
);
`;

describe.skipIf(p.skip)(p.title, () => {
  let dir: string;
  let child: ChildProcess | undefined;
  let url: string;
  let output = '';

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'wasmzoo-workerd-'));
    copyFileSync(join(FIXTURES, 'workerd-worker.mjs'), join(dir, 'worker.mjs'));
    copyFileSync(join(FIXTURES, 'probe.mjs'), join(dir, 'probe.mjs'));
    copyFileSync(join(DIST, 'wasmzoo.mjs'), join(dir, 'wasmzoo.mjs'));
    copyFileSync(join(DIST, 'wasm/wasmzoo.simd.wasm'), join(dir, 'wasmzoo.simd.wasm'));
    copyFileSync(join(ROOT, 'weights/lenet5-fashion.safetensors'), join(dir, 'lenet5-fashion.safetensors'));
    copyFileSync(join(ROOT, 'assets/fashion-samples.safetensors'), join(dir, 'fashion-samples.safetensors'));
    // The port is picked free just before start; retry on the rare race with another process.
    for (let attempt = 0; attempt < 3 && !url; attempt++) {
      const port = await freePort();
      writeFileSync(join(dir, 'config.capnp'), config(port));
      output = '';
      const c = spawn(WORKERD, ['serve', join(dir, 'config.capnp')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      c.stdout!.on('data', (d) => (output += d));
      c.stderr!.on('data', (d) => (output += d));
      let exited = false;
      c.on('exit', () => (exited = true));
      const deadline = Date.now() + 20_000;
      while (!exited && Date.now() < deadline) {
        const ok = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false);
        if (ok) {
          url = `http://127.0.0.1:${port}/`;
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      if (!url) c.kill('SIGKILL');
    }
    if (!url) throw new Error(`workerd did not start serving:\n${output}`);
  });
  afterAll(() => {
    child?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the workerd binary runs', async () => {
    const r = await run(WORKERD, ['--version']);
    expect(r.code, r.stderr).toBe(0);
    console.info(`[platform] ${r.stdout.trim()}`);
  });

  it('runs dist/wasmzoo.mjs with a precompiled simd Module via init({ module })', async () => {
    const res = await fetch(url);
    const text = await res.text();
    expect(res.status, `${text}\n${output}`).toBe(200);
    const report = JSON.parse(text) as Report;
    expect(report.isModule).toBe(true);
    expectHealthy(report, 'simd', { noCompile: true });
    expectLenet(report, 'simd');
    // Compiling from bytes is forbidden there; plain init() must say so with the package's error, not crash.
    expect(report.defaultError).toMatchObject({ code: 'E_RUNTIME', isWasmzooError: true });
    console.info(`[platform] workerd plain init(): ${JSON.stringify(report.defaultError)}`);
  });
});
