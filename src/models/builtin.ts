/**
 * Weights shipped with the package (weights/), by builder and name: `wasmzoo.lenet5({ weights: 'fashion-mnist' })`.
 * The one table of them: every builder looks names up here (src/models/build.ts).
 * They are resolved next to the bundle (`../weights/` from dist/), so they load offline from an installed
 * package in Node and Deno (file system) and, in browsers, from wherever the package's files are served.
 */
interface Builtin {
  file: string;
  /** Constructor options the file was trained with (they override the caller's). */
  options: Record<string, unknown>;
}

const BUILTIN: Record<string, Record<string, Builtin>> = {
  lenet5: { 'fashion-mnist': { file: 'lenet5-fashion.safetensors', options: { activation: 'relu', pooling: 'max', numClasses: 10 } } },
  autoencoder: { 'fashion-mnist': { file: 'autoencoder-fashion.safetensors', options: { layers: [784, 96, 32], conv: false } } },
  vae: { 'fashion-mnist': { file: 'vae-fashion.safetensors', options: { inputSize: 784, hidden: 128, latent: 16 } } },
  // Sizes as the file's metadata (4 special ids + its alphabets: 4 + 38, 4 + 11); sources left-padded to 56.
  seq2seq: { dates: { file: 'seq2seq-dates.safetensors', options: { srcVocab: 42, tgtVocab: 15, embeddingDim: 16, hiddenSize: 128, numLayers: 1 } } },
};

/** The URL of a shipped weight file, or undefined when `name` is not a built-in name for `model`. */
export function builtinWeights(model: string, name: unknown): URL | undefined {
  const b = builtin(model, name);
  if (!b) return undefined;
  const file = b.file;
  // From dist/wasmzoo.*: ../weights/; from the sources (tests, bundlers of src/): ../../weights/.
  const up = /\/src\/models\/[^/]*$/.test(import.meta.url) ? '../../' : '../';
  return new URL(`${up}weights/${file}`, import.meta.url);
}

/** Names of the shipped weights of a model (for messages and docs). */
export function builtinNames(model: string): string[] {
  return Object.keys(BUILTIN[model] ?? {});
}

/** The shipped entry for a model and name (file and the options it was trained with). */
export function builtin(model: string, name: unknown): Builtin | undefined {
  return typeof name === 'string' && Object.hasOwn(BUILTIN, model) && Object.hasOwn(BUILTIN[model], name) ? BUILTIN[model][name] : undefined;
}
