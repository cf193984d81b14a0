/**
 * `model.meta`: what every model says about itself, in one shape (torchvision's weights meta as the model):
 * name, parameter count, the input one sample takes, how to preprocess it and the label set of its outputs.
 * The zoo's ModelMeta (src/models/common.ts) extends it with FLOPs and the smallest accepted input.
 *
 * Each model computes its meta from its configuration, for the data its default configuration is meant for
 * (as the zoo's says "ImageNet" whatever weights were loaded): LeNet-5 with one input channel is the
 * Fashion-MNIST classifier, a 784-input autoencoder or VAE the Fashion-MNIST one on [0, 1] pixels. Computed
 * once per model (the architecture is fixed at construction) and frozen.
 */
import type { Module } from '../nn/module.js';
import { numel } from '../tensor.js';
import { FASHION_MNIST_PRESET, IMAGENET_PRESET, type PreprocessPreset } from '../image/preprocess.js';

/**
 * An image model's input recipe: every field of PreprocessOptions, so `wasmzoo.preprocess(image,
 * model.meta.preprocessing)` applies it, plus the interpolation of the resize.
 */
export type ImagePreprocessing = PreprocessPreset & { readonly interpolation: 'bilinear' };

/** A character-level sequence model's input recipe (from its weights' metadata; see CharTokenizer). */
export interface TextPreprocessing {
  tokenizer: 'char';
  /** Source alphabet: `new CharTokenizer(alphabet)` encodes the input. */
  alphabet: string;
  /** Target alphabet: `new CharTokenizer(targetAlphabet)` decodes the output ids. */
  targetAlphabet: string;
  /** Source ids per sequence the model was trained on (padded with PAD to this length), if fixed. */
  length: number | undefined;
  /** Which end the padding goes. */
  padding: 'left' | 'right';
}

/** Keys of the label tables: 'imagenet-1k' = wasmzoo.imagenetClasses, 'fashion-mnist' = wasmzoo.fashionMnistClasses. */
export type Categories = 'imagenet-1k' | 'fashion-mnist';

/** The meta every model has. */
export interface BaseModelMeta<P extends ImagePreprocessing | TextPreprocessing = ImagePreprocessing | TextPreprocessing> {
  name: string;
  /** Learnable parameter values (running statistics excluded), as torchvision's `num_params`. */
  numParams: number;
  /** One sample's input shape ([C, H, W] for images; -1 marks a free length, e.g. [-1, features] for sequences). */
  inputSize: readonly number[];
  /** How raw data becomes that input; null where there is no fixed recipe. */
  preprocessing: P | null;
  /** Class labels of the outputs (a key of the label tables), or null. */
  categories: Categories | null;
  /** Where the architecture comes from. */
  reference: string;
}

const image = (p: PreprocessPreset): ImagePreprocessing => Object.freeze({ ...p, interpolation: 'bilinear' as const });

/** torchvision's ImageNet transform: resize the short side to 256, center-crop 224, ImageNet mean/std. */
export const IMAGENET_PREPROCESSING = image(IMAGENET_PRESET);
/** 28x28 grey with the Fashion-MNIST normalisation (the shipped LeNet-5). */
export const FASHION_MNIST_PREPROCESSING = image(FASHION_MNIST_PRESET);
/** 28x28 grey pixels in [0, 1], pixel / 255 (the shipped autoencoder and VAE; examples/train-autoencoder.mjs, train-vae.mjs). */
export const PIXELS_PREPROCESSING = image({ ...FASHION_MNIST_PRESET, mean: Object.freeze([0]), std: Object.freeze([1]) });

const cache = new WeakMap<Module, object>();

/** A model's meta, computed on first use and frozen (name and numParams from the model itself). */
export function modelMeta<T extends BaseModelMeta>(model: Module, make: () => Omit<T, 'name' | 'numParams'> & Partial<Pick<T, 'name' | 'numParams'>>): T {
  let m = cache.get(model) as T | undefined;
  if (!m) {
    m = Object.freeze({ name: model.name, numParams: model.parameterCount(), ...make() }) as T;
    cache.set(model, m);
  }
  return m;
}

/**
 * The meta of a model over 28x28 grey images or plain vectors (autoencoder, VAE): [1, 28, 28] and [0, 1]
 * pixels when one sample is 784 values in one channel, else the given shape and no recipe.
 */
export function pixelModelMeta(model: Module, shape: readonly number[], reference: string): BaseModelMeta<ImagePreprocessing> {
  const grey28 = numel(shape) === 784 && (shape.length === 1 || shape[0] === 1);
  return modelMeta(model, () => ({ inputSize: grey28 ? [1, 28, 28] : [...shape], preprocessing: grey28 ? PIXELS_PREPROCESSING : null, categories: null, reference }));
}
