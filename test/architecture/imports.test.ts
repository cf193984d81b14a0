/**
 * The layering of src/, checked on the import statements themselves (type-only imports included: a type
 * import is still a dependency of the design):
 *   graph  (builder, plan, values, parameters, the training tape and the training contract)
 *   nn     imports graph, never train
 *   train  imports nn and graph
 *   models imports all of them
 * and no import circle anywhere in src/.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(__dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative module a file imports or re-exports (static, dynamic or type-only), as a src-relative path. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?(?:from\s*)?['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
  for (const m of text.matchAll(re)) {
    const spec = m[1] ?? m[2];
    out.push(relative(SRC, resolve(dirname(file), spec.replace(/\.js$/, '.ts'))));
  }
  return out;
}

const graph = new Map(files(SRC).map((f) => [relative(SRC, f), importsOf(f)]));
const layer = (p: string) => p.split('/')[0];

describe('src/ layering', () => {
  it('finds the imports (the scan itself works)', () => {
    expect(graph.get('nn/module.ts')).toContain('graph/graph.ts');
    expect(graph.size).toBeGreaterThan(50);
  });

  it('nn never imports train or models; graph imports none of nn, train, models', () => {
    const bad: string[] = [];
    for (const [f, deps] of graph) {
      for (const d of deps) {
        if (layer(f) === 'nn' && (layer(d) === 'train' || layer(d) === 'models')) bad.push(`${f} -> ${d}`);
        if (layer(f) === 'graph' && ['nn', 'train', 'models'].includes(layer(d))) bad.push(`${f} -> ${d}`);
        if (layer(f) === 'train' && layer(d) === 'models') bad.push(`${f} -> ${d}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('has no import circle', () => {
    const state = new Map<string, 'open' | 'done'>();
    const circles: string[] = [];
    const visit = (f: string, path: string[]): void => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        circles.push([...path.slice(path.indexOf(f)), f].join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const d of graph.get(f) ?? []) visit(d, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f, []);
    expect(circles).toEqual([]);
  });
});
