/**
 * The one check of every options object (issue 12): builders, layer and model constructors, init(), and the
 * methods that take options. A typo is not silently ignored (`lenet5({ weight: 'fashion-mnist' })` built
 * random weights; `new nn.LSTM(8, 16, { num_layers: 2 })` gave one layer): an unknown key is an E_ARGUMENT
 * that names it, suggests the key that was meant (PyTorch's snake_case spelled in camelCase, else the nearest
 * key by edit distance) and lists the keys there are.
 *
 * Key lists are runtime data (TypeScript interfaces are gone at run time); `optionKeys<T>({ ... })` makes
 * the compiler hold a list to its interface: a key missing from the list, or one the interface lacks, is a
 * type error.
 */
import { WasmzooError } from './errors.js';

/** The keys of options interface T, complete: `optionKeys<LinearOptions>({ bias: 1 })`. */
export function optionKeys<T extends object>(keys: { [K in keyof Required<T>]: 1 }): readonly string[] {
  return Object.freeze(Object.keys(keys));
}

/**
 * `opts` (undefined, or a plain object whose own keys are all in `allowed`) as `T`; anything else is an
 * E_ARGUMENT naming `where`. Keys whose value is undefined are checked too (a typo is a typo).
 */
export function checkOptions<T extends object>(where: string, opts: T | undefined, allowed: readonly string[]): T {
  if (opts === undefined) return {} as T;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts) || ArrayBuffer.isView(opts)) {
    const got = opts === null ? 'null' : Array.isArray(opts) ? 'an array' : typeof opts === 'object' ? (opts as object).constructor?.name ?? 'object' : `${typeof opts} ${String(opts)}`;
    throw new WasmzooError('E_ARGUMENT', `${where}: options must be an object ({ ${allowed.join(', ')} }), got ${got}`);
  }
  for (const key of Object.keys(opts)) {
    if (allowed.includes(key)) continue;
    const meant = suggestKey(key, allowed);
    const hint = meant ? ` (did you mean "${meant}"?)` : '';
    const known = allowed.length ? `its options are ${allowed.join(', ')}` : 'it takes no options';
    throw new WasmzooError('E_ARGUMENT', `${where}: unknown option "${key}"${hint}; ${known}`);
  }
  return opts;
}

/** The key `key` was probably meant to be: its camelCase form, the same letters in another case, or the nearest by edit distance. */
export function suggestKey(key: string, allowed: readonly string[]): string | undefined {
  const camel = key.replace(/[_-]+([a-z0-9])/gi, (_, c: string) => c.toUpperCase());
  if (allowed.includes(camel)) return camel;
  const fold = (s: string) => s.replace(/[_-]/g, '').toLowerCase();
  const sameLetters = allowed.find((k) => fold(k) === fold(key));
  if (sameLetters) return sameLetters;
  let best: string | undefined;
  let bestDist = Infinity;
  for (const k of allowed) {
    const d = editDistance(fold(key), fold(k));
    if (d < bestDist) [best, bestDist] = [k, d];
  }
  // close enough to be a typo: at most a third of the key's letters (and at least 1, at most 3) differ
  return best !== undefined && bestDist <= Math.min(3, Math.max(1, Math.floor(fold(key).length / 3))) ? best : undefined;
}

/** Levenshtein distance (insert, delete, substitute), two rows. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}
