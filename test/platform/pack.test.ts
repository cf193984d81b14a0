/**
 * What `npm install` of this repository gives (issue 12: "npm install <path or git URL of the repo> gives a
 * working package"). A git install clones the repo, installs its devDependencies and runs `prepare`, which must
 * build dist/ (tools/prepare.mjs); a packed tarball must then hold every file the exports and the shipped
 * weights name. The full git install (2 minutes, the registry for devDependencies) was run by hand:
 * `npm install git+file:///path/to/wasmzoo`, then LeNet-5 ran from the installed package.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertBuilt, ROOT, run } from './helpers.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

describe('npm install of the repository', () => {
  it('has a prepare hook that builds dist/ when it is missing, and skips it when present', async () => {
    assertBuilt();
    expect(pkg.scripts.prepare).toBe('node tools/prepare.mjs');
    const src = readFileSync(join(ROOT, 'tools/prepare.mjs'), 'utf8');
    expect(src).toMatch(/npm run build/);
    const t0 = Date.now();
    const r = await run(process.execPath, [join(ROOT, 'tools/prepare.mjs')], { cwd: ROOT });
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000); // dist exists: nothing rebuilt
  });

  it('packs every file the exports, the CLI and the shipped weights name', async () => {
    assertBuilt();
    const r = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
    expect(r.code, r.stderr).toBe(0);
    const files = new Set((JSON.parse(r.stdout)[0].files as { path: string }[]).map((f) => f.path));
    const named: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') { if (v.startsWith('./') && !v.includes('*')) named.push(v.slice(2)); } else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(pkg.exports);
    for (const f of [...named, 'dist/wasmzoo.mjs', 'dist/onnx.mjs', 'dist/cli.mjs', 'weights/lenet5-fashion.safetensors', 'weights/seq2seq-dates.safetensors', 'assets/fashion-samples.safetensors']) {
      expect(files.has(f), `${f} in the package`).toBe(true);
    }
    expect([...files].some((f) => f.startsWith('test/') || f.startsWith('src/')), 'no tests or sources in the package').toBe(false);
  });
});
