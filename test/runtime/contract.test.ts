/**
 * The contract between the kernels and their TypeScript mirror: each built variant
 * (build/wasmzoo.{scalar,simd,relaxed}.wasm, written by `npm run build:wasm`) must export exactly the members of
 * the `Kernels` interface in src/runtime/kernels.ts (assembly/index.ts is the export surface), each function with
 * the interface's parameter count, parameter types and return, and the three variants must export the same set.
 *
 * The interface is read with the TypeScript compiler API (an interface has no runtime value to import); the wasm
 * side comes from the module's own type, function and export sections, parsed below, and each function's
 * arity is checked against the engine's `.length` of the instantiated export as well, so the parser cannot
 * silently disagree with the engine. Types: wasm i32/f32/f64 are a TS `number`, i64 a `bigint`; v128 and
 * reference types have no place in this interface.
 */
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const VARIANTS = ['scalar', 'simd', 'relaxed'] as const;
type Variant = (typeof VARIANTS)[number];

// ---- the TypeScript side ----

interface TsMember {
  kind: 'function' | 'memory';
  /** Parameter types as written (function members). */
  params: string[];
  /** Return type as written: 'void' or 'number' (function members). */
  result: string;
}

/** Members of `interface Kernels` in src/runtime/kernels.ts, by name. */
function kernelsInterface(): Map<string, TsMember> {
  const path = new URL('../../src/runtime/kernels.ts', import.meta.url);
  const source = ts.createSourceFile('kernels.ts', readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const decl = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'Kernels');
  if (!decl) throw new Error('src/runtime/kernels.ts has no `interface Kernels`');
  const members = new Map<string, TsMember>();
  for (const m of decl.members) {
    const name = m.name && (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name)) ? m.name.text : undefined;
    if (!name) throw new Error(`Kernels: a member without a plain name: ${m.getText(source)}`);
    if (members.has(name)) throw new Error(`Kernels: member ${name} declared twice`);
    let signature: ts.SignatureDeclarationBase | undefined;
    if (ts.isMethodSignature(m)) signature = m;
    else if (ts.isPropertySignature(m) && m.type && ts.isFunctionTypeNode(m.type)) signature = m.type;
    if (signature) {
      const params = signature.parameters.map((p) => {
        if (p.questionToken || p.dotDotDotToken || p.initializer) {
          throw new Error(`Kernels.${name}: optional or rest parameter ${p.getText(source)} (a wasm export takes a fixed list)`);
        }
        return p.type ? p.type.getText(source) : 'any';
      });
      members.set(name, { kind: 'function', params, result: signature.type ? signature.type.getText(source) : 'any' });
    } else if (ts.isPropertySignature(m) && m.type?.getText(source) === 'WebAssembly.Memory') {
      members.set(name, { kind: 'memory', params: [], result: '' });
    } else {
      throw new Error(`Kernels.${name}: neither a function nor a WebAssembly.Memory: ${m.getText(source)}`);
    }
  }
  return members;
}

// ---- the wasm side ----

interface WasmExport {
  kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
  /** Parameter and result value types (functions): 'i32', 'i64', 'f32', 'f64', 'v128', 'funcref', ... */
  params: string[];
  results: string[];
}

const VALTYPES: Record<number, string> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };
const KINDS = ['function', 'table', 'memory', 'global', 'tag'] as const;

/** Exports of a module with their function types, from its type (1), import (2), function (3) and export (7) sections. */
function wasmExports(bytes: Uint8Array): Map<string, WasmExport> {
  let i = 8; // magic + version
  const u8 = () => bytes[i++];
  const leb = () => { let r = 0, shift = 0, b; do { b = bytes[i++]; r += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80); return r; };
  const name = () => { const n = leb(); const s = new TextDecoder().decode(bytes.subarray(i, i + n)); i += n; return s; };
  const valtypes = () => Array.from({ length: leb() }, () => { const t = u8(); const v = VALTYPES[t]; if (!v) throw new Error(`unknown value type 0x${t.toString(16)}`); return v; });
  const limits = () => { const flags = u8(); leb(); if (flags & 1) leb(); };
  const types: { params: string[]; results: string[] }[] = [];
  const funcTypes: number[] = []; // function index -> type index (imports first)
  const raw: { name: string; kind: number; index: number }[] = [];
  while (i < bytes.length) {
    const id = u8();
    const size = leb();
    const end = i + size;
    if (id === 1) {
      for (let n = leb(); n > 0; n--) {
        if (u8() !== 0x60) throw new Error('type section: not a function type');
        types.push({ params: valtypes(), results: valtypes() });
      }
    } else if (id === 2) {
      for (let n = leb(); n > 0; n--) {
        name(); name();
        const kind = u8();
        if (kind === 0) funcTypes.push(leb());
        else if (kind === 1) { u8(); limits(); }
        else if (kind === 2) limits();
        else if (kind === 3) { u8(); u8(); }
        else if (kind === 4) { u8(); leb(); }
      }
    } else if (id === 3) {
      for (let n = leb(); n > 0; n--) funcTypes.push(leb());
    } else if (id === 7) {
      for (let n = leb(); n > 0; n--) raw.push({ name: name(), kind: u8(), index: leb() });
    }
    i = end;
  }
  const out = new Map<string, WasmExport>();
  for (const e of raw) {
    const type = e.kind === 0 ? types[funcTypes[e.index]] : { params: [], results: [] };
    out.set(e.name, { kind: KINDS[e.kind], ...type });
  }
  return out;
}

function load(variant: Variant): { exports: Map<string, WasmExport>; instance: WebAssembly.Instance } {
  const url = new URL(`../../build/wasmzoo.${variant}.wasm`, import.meta.url);
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = readFileSync(url);
  } catch {
    throw new Error(`build/wasmzoo.${variant}.wasm is missing: run \`npm run build:wasm\` first`);
  }
  // relaxed needs --experimental-wasm-relaxed-simd on Node 20 (vitest.config.ts passes it)
  return { exports: wasmExports(bytes), instance: new WebAssembly.Instance(new WebAssembly.Module(bytes), {}) };
}

/** The TS type that carries a wasm value type across the JS boundary. */
function tsTypeOf(valtype: string): string {
  if (valtype === 'i32' || valtype === 'f32' || valtype === 'f64') return 'number';
  if (valtype === 'i64') return 'bigint';
  return `(no TS type for wasm ${valtype})`;
}

/** Names on one side only, as readable lists (empty when the sets agree). */
function difference(wasm: Iterable<string>, iface: Iterable<string>) {
  const a = new Set(wasm), b = new Set(iface);
  return {
    missingFromInterface: [...a].filter((n) => !b.has(n)).sort(),
    missingFromWasm: [...b].filter((n) => !a.has(n)).sort(),
  };
}

describe('contract: wasm exports vs the Kernels interface (src/runtime/kernels.ts)', () => {
  const iface = kernelsInterface();
  const modules = Object.fromEntries(VARIANTS.map((v) => [v, load(v)])) as Record<Variant, ReturnType<typeof load>>;

  it('the interface is not empty and has the memory', () => {
    expect(iface.get('memory')?.kind).toBe('memory');
    expect([...iface.values()].filter((m) => m.kind === 'function').length).toBeGreaterThan(50);
  });

  it.each(VARIANTS)('%s: exports exactly the members of Kernels', (v) => {
    expect(difference(modules[v].exports.keys(), iface.keys())).toEqual({ missingFromInterface: [], missingFromWasm: [] });
  });

  it.each(VARIANTS)('%s: every member has the kind, parameters and return the interface declares', (v) => {
    const { exports, instance } = modules[v];
    const problems: string[] = [];
    for (const [name, m] of iface) {
      const e = exports.get(name);
      if (!e) continue; // reported by the set test
      if (e.kind !== m.kind) { problems.push(`${name}: wasm ${e.kind}, interface ${m.kind}`); continue; }
      if (m.kind !== 'function') continue;
      const engineArity = (instance.exports[name] as (...args: unknown[]) => unknown).length;
      if (engineArity !== e.params.length) problems.push(`${name}: type section says ${e.params.length} parameters, the engine ${engineArity}`);
      if (e.params.length !== m.params.length) {
        problems.push(`${name}: wasm takes ${e.params.length} parameters (${e.params.join(', ')}), the interface ${m.params.length}`);
      } else {
        e.params.forEach((t, k) => {
          if (tsTypeOf(t) !== m.params[k]) problems.push(`${name}: parameter ${k + 1} is wasm ${t}, declared ${m.params[k]}`);
        });
      }
      const want = e.results.length === 0 ? 'void' : e.results.length === 1 ? tsTypeOf(e.results[0]) : `[${e.results.map(tsTypeOf).join(', ')}]`;
      if (want !== m.result) problems.push(`${name}: wasm returns ${e.results.join(', ') || 'nothing'}, declared ${m.result}`);
    }
    expect(problems).toEqual([]);
  });

  it('the three variants export the same names with the same types', () => {
    const signature = (v: Variant) => Object.fromEntries([...modules[v].exports].map(([n, e]) => [n, `${e.kind}(${e.params.join(',')})->(${e.results.join(',')})`]));
    expect(signature('simd')).toEqual(signature('scalar'));
    expect(signature('relaxed')).toEqual(signature('scalar'));
  });
});
