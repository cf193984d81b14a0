/**
 * The one builder path of every model (`wasmzoo.lenet5(...)`, `wasmzoo.resnet50(...)`, `wasmzoo.seq2seq(...)`,
 * ...): start the runtime, build the model, resolve `weights` from whatever form it comes in, load it. Every
 * builder takes the same four options (BuildOptions) next to its architecture options:
 *
 *   weights   safetensors or PyTorch checkpoint (.pth) bytes, a state dict, a fetch Response, a Blob / File, a URL, a file path, or the
 *             name of weights shipped with the package (src/models/builtin.ts, e.g. 'fashion-mnist')
 *   download  how bytes are read (LoadWeightsOptions: progress, AbortSignal, sha256, cache), for every
 *             source that is read: URLs, paths, shipped names, Responses, Blobs (and a sha256 check of bytes)
 *   strict    PyTorch's load_state_dict strict (default true)
 *   init      runtime options, if this builder is the first to start it
 *
 * Shipped weights come with the architecture options they were trained with, which override the caller's.
 * A string that is neither a shipped name nor a readable path is an E_ARGUMENT that lists the shipped
 * names (and, for a bare word such as 'fashion', suggests the one meant instead of the file system's ENOENT).
 *
 * Options are checked before anything starts (src/options.ts): a key that is neither one of these four nor
 * one of the model's own (the `keys` each builder passes) is an E_ARGUMENT with the key that was meant.
 */
import { WasmzooError } from '../errors.js';
import { init, type InitOptions } from '../runtime/runtime.js';
import type { WeightSource } from '../io/weights.js';
import { LOAD_WEIGHTS_OPTION_KEYS, loadWeights, type LoadWeightsOptions } from '../io/fetch.js';
import { readSafetensors } from '../io/safetensors.js';
import { isPth } from '../io/pth.js';
import { checkOptions, optionKeys, suggestKey } from '../options.js';
import type { Module } from '../nn/module.js';
import { builtin, builtinNames, builtinWeights } from './builtin.js';

/**
 * Anything `weights` may be: bytes, a state dict, a fetch Response, a Blob or File, a URL, or a string: the
 * name of shipped weights, a file path (Node/Deno) or a URL.
 */
export type ZooWeightSource = WeightSource | Response | Blob | URL | string;

/** The options every model builder takes (see the file header). */
export interface BuildOptions {
  /** Safetensors bytes, a state dict, a Response, a Blob, a URL, a file path, or a shipped name (see resolveWeights). */
  weights?: ZooWeightSource;
  /** How a URL, path, shipped name, Response or Blob is read: progress, AbortSignal, sha256 check, cache (see loadWeights). */
  download?: LoadWeightsOptions;
  /** Like PyTorch's strict (default true) when loading `weights`. */
  strict?: boolean;
  /** Options for the runtime, if the builder is the first to start it. */
  init?: InitOptions;
}

/** The option vocabulary every builder shares (BuildOptions), next to each model's own keys. */
export const BUILD_OPTION_KEYS = optionKeys<BuildOptions>({ weights: 1, download: 1, strict: 1, init: 1 });

/** A builder's options without the shared BuildOptions: what the model's constructor takes. */
export type ArchitectureOptions<O> = O extends unknown ? Omit<O, keyof BuildOptions> : never;

/** What the builder read, for a model's own finishing touches (e.g. the autoencoder's shipped threshold). */
export interface LoadedWeights {
  /** The safetensors header metadata when the weights were bytes ({} without any, and for a .pth checkpoint). */
  metadata: Record<string, string> | undefined;
  /** The shipped name, when the weights were shipped ones. */
  shipped: string | undefined;
}

/**
 * Weights from any accepted source, as bytes or a state dict:
 *   - Uint8Array / ArrayBuffer / a name -> tensor map: as they are;
 *   - a fetch `Response`, a `Blob` or `File`: its bytes (a non-OK status is an error);
 *   - a `URL` or a string with a scheme (`https:`, `http:`, `data:`, `blob:`): fetched with `fetch`;
 *     `file:` URLs are read from the file system in Node and Deno;
 *   - any other string: a file path in Node (`process.getBuiltinModule('node:fs/promises')`) or Deno
 *     (`Deno.readFile`); where there is no file system (browsers, workers) it is fetched as a relative URL.
 * Byte sources go through loadWeights (src/io/fetch.ts): `opts` adds progress, an AbortSignal, a sha256
 * check before parsing and a Cache Storage / IndexedDB cache. Shipped names are the builders' business
 * (buildModel); here a string is always a path or URL.
 */
export async function resolveWeights(src: ZooWeightSource, opts?: LoadWeightsOptions): Promise<WeightSource> {
  if (
    src instanceof Uint8Array || src instanceof ArrayBuffer || src instanceof URL || typeof src === 'string' ||
    (typeof Response !== 'undefined' && src instanceof Response) || (typeof Blob !== 'undefined' && src instanceof Blob)
  ) {
    return opts ? loadWeights(src, opts) : src instanceof Uint8Array || src instanceof ArrayBuffer ? src : loadWeights(src);
  }
  if (src !== null && typeof src === 'object') return src as WeightSource; // a state dict; readWeights checks it
  throw new WasmzooError('E_ARGUMENT', `weights must be bytes, a state dict, a Response, a Blob, a URL or a file path, got ${src === null ? 'null' : typeof src}`);
}

/**
 * `weights` of the builder `family` (a key of the shipped table, or any builder name): a shipped name
 * becomes its file next to the bundle; a scheme-less string that cannot be read is an E_ARGUMENT naming
 * the shipped weights.
 */
export async function resolveModelWeights(family: string, src: ZooWeightSource, opts?: LoadWeightsOptions): Promise<WeightSource> {
  const shipped = builtinWeights(family, src);
  if (shipped) return resolveWeights(shipped, opts);
  try {
    return await resolveWeights(src, opts);
  } catch (e) {
    // NOTE: only an unreadable path (or, in browsers, a relative URL) may be a mistyped name; an http(s) or
    // file: URL keeps its E_IO, and an abort its AbortError.
    if (typeof src === 'string' && !/^[a-z][a-z0-9+.-]*:/i.test(src) && e instanceof WasmzooError && e.code === 'E_IO') {
      const names = builtinNames(family);
      const known = names.length ? `shipped weights are ${names.map((n) => JSON.stringify(n)).join(', ')}` : 'it has no shipped weights';
      // a bare word was meant as a shipped name: the file system's ENOENT would only confuse
      if (/^[\w-]+$/.test(src)) {
        const meant = names.find((n) => n.startsWith(src) || src.startsWith(n)) ?? suggestKey(src, names);
        throw new WasmzooError('E_ARGUMENT', `${family}: unknown weights ${JSON.stringify(src)}${meant ? ` (did you mean ${JSON.stringify(meant)}?)` : ''}: ${known} (or pass a file path, a URL or bytes)`);
      }
      throw new WasmzooError('E_ARGUMENT', `${family}: weights ${JSON.stringify(src)} is neither a shipped name (${known}) nor a readable file or URL (${e.message.replace(/^weights: /, '')})`);
    }
    throw e;
  }
}

/**
 * The body of every builder: check the options (`keys`: the model's own, which `make` takes, beside
 * BUILD_OPTION_KEYS), start the runtime, construct with `make` (given the options without BuildOptions'; the
 * shipped weights' training options override the caller's), then resolve and load `weights` with `strict`;
 * `loaded` finishes the model from what was read. Options are checked (then by constructing) before anything
 * is downloaded; on a failed load the model is disposed and the error passed on.
 */
export async function buildModel<M extends Module, O extends BuildOptions>(
  family: string, opts: O, keys: readonly string[], make: (config: ArchitectureOptions<O>) => M, loaded?: (model: M, info: LoadedWeights) => void,
): Promise<M> {
  const o = checkOptions(family, opts, [...keys, ...BUILD_OPTION_KEYS]);
  checkOptions(`${family}: download`, o.download, LOAD_WEIGHTS_OPTION_KEYS);
  await init(o.init);
  const shipped = builtin(family, o.weights);
  const config: Record<string, unknown> = { ...o, ...shipped?.options };
  for (const k of BUILD_OPTION_KEYS) delete config[k];
  const model = make(config as ArchitectureOptions<O>);
  if (o.weights === undefined) return model;
  try {
    const w = await resolveModelWeights(family, o.weights, o.download);
    model.loadStateDict(w, { strict: o.strict ?? true });
    if (loaded) {
      const bytes = w instanceof ArrayBuffer ? new Uint8Array(w) : w instanceof Uint8Array ? w : undefined;
      const metadata = bytes ? (isPth(bytes) ? {} : readSafetensors(bytes).metadata) : undefined;
      loaded(model, { metadata, shipped: shipped ? (o.weights as string) : undefined });
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
