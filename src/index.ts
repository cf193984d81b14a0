/**
 * wasmzoo: portable neural-network runtime. Public API.
 */
import { init as initRuntime, type Backend, type InitOptions, type Runtime } from './runtime/runtime.js';
export { backend, memoryStats, threads, release, threadsLimit, type Backend, type InitOptions, type MemoryStats } from './runtime/runtime.js';
/**
 * Extension API (used by `wasmzoo/onnx`): the current Runtime, with its kernels (`k`, typed in
 * src/runtime/kernels.ts) and arena. Throws E_RUNTIME before init().
 */
export { runtime, type Runtime } from './runtime/runtime.js';
export type { Kernels } from './runtime/kernels.js';
/** Extension API: the kernels' activation codes and epilogue flags (wasmzoo/onnx fuses activations into its convs). */
export { activation, epilogueFlags, type Activation, type ActivationName } from './runtime/activation.js';

/** What init() started. */
export interface RuntimeInfo {
  /** The kernel variant: 'relaxed', 'simd' or 'scalar'. */
  backend: Backend;
  /** Threads that run kernels (this one included). */
  threads: number;
  /** Why it runs on one thread though more were asked for (or 'auto' found none), if so. */
  threadsNote?: string;
  /** The backend name, so `${await init()}` reads as before. */
  toString(): string;
}

/**
 * Start the runtime: compiles the best kernel variant this engine accepts (relaxed SIMD, then SIMD, then
 * scalar), starts its worker threads (`threads: 'auto'` by default, see InitOptions) and resolves to what
 * runs. Idempotent; model builders call it for you. Pass `{ backend }` to force a variant, `{ threads }` for
 * a thread count, or `{ module }` with a precompiled WebAssembly.Module where compiling from bytes is
 * forbidden (edge workers). Concurrent calls are served in call order and the later request wins (see
 * runtime.ts).
 */
export async function init(opts?: InitOptions): Promise<RuntimeInfo> {
  const rt = await initRuntime(opts);
  let info = infos.get(rt);
  if (!info) {
    info = { backend: rt.backend, threads: rt.threads, toString: () => rt.backend };
    if (rt.threadsNote) info.threadsNote = rt.threadsNote;
    infos.set(rt, info);
  }
  return info;
}
/** One RuntimeInfo per runtime, so init() resolves to the same object while the runtime stays. */
const infos = new WeakMap<Runtime, RuntimeInfo>();
export { Tensor, tensor, type Shape } from './tensor.js';
export { WasmzooError, type ErrorCode } from './errors.js';
export * as nn from './nn/index.js';
export { readSafetensors, writeSafetensors } from './io/safetensors.js';
export { readPth, isPth, PthFile, type PthTensor, type PthFormat } from './io/pth.js';
export type { WeightSource } from './io/weights.js';
export { LeNet5, lenet5, type LeNet5Options } from './models/lenet.js';
export {
  preprocess, preprocessImageNet, imageToTensor, resize, centerCrop, normalize, IMAGENET_MEAN, IMAGENET_STD, IMAGENET_PRESET,
  FASHION_MNIST_MEAN, FASHION_MNIST_STD, FASHION_MNIST_PRESET, type ImageLike, type PreprocessOptions, type PreprocessPreset, type Size,
} from './image/preprocess.js';
export { imagenetClasses, fashionMnistClasses } from './image/labels.js';
export { topK, type TopKEntry } from './image/topk.js';
export { alexnet, AlexNet } from './models/alexnet.js';
export { zfnet, ZFNet } from './models/zfnet.js';
export { googlenet, GoogLeNet, type GoogLeNetOptions, type GoogLeNetModelOptions } from './models/googlenet.js';
export { vgg11, vgg13, vgg16, vgg19, vgg11_bn, vgg13_bn, vgg16_bn, vgg19_bn, VGG, VGG_CFGS } from './models/vgg.js';
export { resnet18, resnet34, resnet50, resnet101, resnet152, ResNet, RESNET_DEPTHS } from './models/resnet.js';
export { ZooModel, type ZooOptions, type ZooModelOptions, type ModelMeta, type ZooPreprocessing, type ZooName } from './models/common.js';
export { resolveWeights, type BuildOptions, type ZooWeightSource } from './models/build.js';
export type { BaseModelMeta, ImagePreprocessing, TextPreprocessing, Categories } from './models/meta.js';
export { zoo, zooNames, type ZooEntry } from './models/registry.js';
export { hashWeights, hashTensor } from './models/hashweights.js';
export { SequenceGRU, SequenceLSTM, SequenceModel, sequenceGRU, sequenceLSTM, type SequenceGRUOptions, type SequenceLSTMOptions } from './models/seq.js';
export { Seq2Seq, seq2seq, type Seq2SeqOptions, type Seq2SeqBuildOptions, type GreedyOptions, type BeamOptions, type Hypothesis, type TokenIds } from './models/seq2seq.js';
export { CharTokenizer, PAD, BOS, EOS, UNK, type EncodeOptions, type DecodeOptions } from './models/tokenizer.js';
export * as optim from './train/index.js';
// Loading the trainer installs training behind Module.trainStep / fit / evaluate (src/graph/training.ts).
import './train/trainer.js';
export type { FitOptions, FitProgress, EpochLogs, History, TrainOptions } from './train/trainer.js';
export type { LossName } from './train/loss.js';
export { readIdx, readIdxGz, gunzip, type IdxArray, type GunzipOptions } from './io/idx.js';
export { Autoencoder, autoencoder, type AutoencoderOptions, type AutoencoderBuildOptions, type AEActivation } from './models/autoencoder.js';
/** Also `wasmzoo.nn.Unflatten` / `wasmzoo.nn.Upsample` (their home); kept at the top level, where they were first exported. */
export { Unflatten, Upsample } from './nn/index.js';
export { VAE, vae, type VAEOptions, type VAEBuildOptions } from './models/vae.js';
export { loadWeights, sha256Hex, DEFAULT_MAX_BYTES, type LoadWeightsOptions, type WeightProgress, type WeightCache, type ByteSource } from './io/fetch.js';
