/**
 * What a person sees of the built bundles (issue 12): an uncaught WasmzooError prints a few hundred bytes, not
 * the whole one-line bundle (Node echoes the throwing source line); every line of code is short and the
 * kernels' base64 sits on lines of its own; source maps ship and resolve to src/; and every class, layer and
 * model names itself (`LSTM: ...`, `Linear {`) in the minified builds as in the sources.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, DIST, FIXTURES, ROOT, run } from './helpers.js';

const env = { PATH: process.env.PATH, HOME: process.env.HOME };
const MINIFIED = ['wasmzoo.mjs', 'wasmzoo.cjs', 'wasmzoo.min.js', 'onnx.mjs', 'onnx.cjs'];
/** rollup.config.mjs cuts lines at 500 characters; esbuild finishes the token it is in (a string, a template). */
const MAX_CODE_LINE = 1000;

describe('readable builds', () => {
  beforeAll(assertBuilt);
  // A user's project: node_modules/wasmzoo is this package, so `wasmzoo` resolves through package.json "exports".
  let project = '';
  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), 'wasmzoo-readable-'));
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(ROOT, join(project, 'node_modules/wasmzoo'), 'dir');
    writeFileSync(join(project, 'boom.cjs'), "require('wasmzoo').tensor([1, 2, 3], [2, 2]);\n");
    writeFileSync(join(project, 'boom.mjs'), "import { tensor } from 'wasmzoo';\ntensor([1, 2, 3], [2, 2]);\n");
  });
  afterAll(() => project && rmSync(project, { recursive: true, force: true }));

  it.each(['boom.cjs', 'boom.mjs'])('an uncaught WasmzooError (%s) prints less than 4 KB', async (script) => {
    const r = await run(process.execPath, [script], { cwd: project, env });
    const printed = r.stdout + r.stderr;
    expect(r.code).toBe(1);
    expect(printed).toContain('WasmzooError: tensor: shape [2, 2] holds 4 elements but the data has 3');
    expect(printed.length, printed.slice(0, 2000)).toBeLessThan(4000);
  });

  it('with --enable-source-maps, the stack points into src/', async () => {
    const r = await run(process.execPath, ['--enable-source-maps', 'boom.mjs'], { cwd: project, env });
    expect(r.stderr).toMatch(/src\/tensor\.ts:\d+/);
  });

  it.each(MINIFIED)('%s: every line of code is short; the base64 lines hold nothing else', (file) => {
    const lines = readFileSync(join(DIST, file), 'utf8').split('\n');
    const long = lines.map((l, i) => [i + 1, l] as const).filter(([, l]) => l.length > MAX_CODE_LINE && !/^[A-Za-z0-9+/]+=*$/.test(l));
    expect(long.map(([n, l]) => `line ${n}: ${l.length} chars: ${l.slice(0, 80)}...`)).toEqual([]);
    expect(lines.length).toBeGreaterThan(20);
  });

  it.each(MINIFIED)('%s ships a source map of src/ without the kernels\' bytes', (file) => {
    const code = readFileSync(join(DIST, file), 'utf8');
    expect(code.trimEnd().endsWith(`//# sourceMappingURL=${file}.map`)).toBe(true);
    const map = JSON.parse(readFileSync(join(DIST, `${file}.map`), 'utf8'));
    expect(map.sources.length).toBeGreaterThan(file.startsWith('onnx') ? 3 : 30);
    expect(map.sources.filter((s: string) => !/^\.\.\/src\/.+\.ts$/.test(s))).toEqual([]);
    expect(map.sourcesContent.filter((c: string) => /[A-Za-z0-9+/]{5000}/.test(c))).toEqual([]);
  });

  describe.each(['wasmzoo.mjs', 'wasmzoo.cjs', 'wasmzoo.min.js', 'wasmzoo.iife.js'])('%s: names', (file) => {
    let report: { classes: [string, string][]; prefixes: Record<string, Record<string, string>> };
    beforeAll(async () => {
      const r = await run(process.execPath, [join(FIXTURES, 'names.mjs'), join(DIST, file)], { env });
      expect(r.code, r.stderr).toBe(0);
      report = JSON.parse(r.stdout);
    });

    it('every exported class is called by its source name', () => {
      expect(report.classes.length).toBeGreaterThan(40);
      expect(report.classes.filter(([key, name]) => key.split('.').pop() !== name)).toEqual([]);
    });

    it('every layer names itself in its errors and in console.log', () => {
      expect(Object.keys(report.prefixes).length).toBe(25);
      for (const [layer, seen] of Object.entries(report.prefixes)) {
        expect(seen.label, `${layer} in console.log`).toBe(layer);
        for (const what of ['badShape', 'badWeights', 'disposed']) expect(seen[what], `${layer} ${what}`).toMatch(new RegExp(`^${layer}: `));
        // a layer with no input expectations runs on the [2, 5, 6, 6] input; Sequential's child names itself
        if (seen.badInput !== 'no error' && layer !== 'Sequential') expect(seen.badInput, `${layer} badInput`).toMatch(new RegExp(`^${layer}: `));
      }
      expect(report.prefixes.LSTM!.badInput).toMatch(/^LSTM: expected input \[T, B, 4\]/);
      expect(report.prefixes.Linear!.badInput).toMatch(/^Linear: expected input \[\.\.\., 4\]/);
      expect(report.prefixes.Conv2d!.badInput).toMatch(/^Conv2d: expected input \[N, 3, H, W\]/);
      expect(report.prefixes.Sequential!.badWeights).toMatch(/^Sequential: cannot load state dict/);
    });
  });

  it('wasmzoo/onnx classes keep their names', async () => {
    expect(existsSync(join(DIST, 'onnx.mjs'))).toBe(true);
    const code = "import('wasmzoo/onnx').then((m) => console.log(m.OnnxModel.name))";
    const r = await run(process.execPath, ['-e', code], { cwd: project, env });
    expect(r.stdout.trim(), r.stderr).toBe('OnnxModel');
  });
});
