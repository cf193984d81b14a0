/**
 * Pointer -> typed-array index conversions go through one unsigned helper (`wordIndex` in
 * src/runtime/arena.ts), never an inline shift: `ptr >> 2` is negative above 2 GiB, and even `>>> 2`
 * written by hand is one refactor away from losing its third `>`. Plan pointer tables are Uint32Array.
 * (test/runtime/high-addresses.test.ts runs real models up there.)
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const SRC = resolve(__dirname, '../../src');
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });

describe('pointer arithmetic in src/', () => {
  it('has no inline >> 2 / >>> 2 outside wordIndex', () => {
    const bad: string[] = [];
    for (const f of files(SRC)) {
      readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
        if (/>>>?\s*2\b/.test(line) && !/return ptr >>> 2;/.test(line)) bad.push(`${relative(SRC, f)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(bad).toEqual([]);
  });

  it('keeps plan pointers unsigned', () => {
    const g = readFileSync(join(SRC, 'graph/graph.ts'), 'utf8');
    expect(g).toMatch(/export type Pointers = Uint32Array;/);
    expect(g).not.toMatch(/new Int32Array\(g\.bufs/);
  });
});
