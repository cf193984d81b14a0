/**
 * The op table: an op name -> the layer that records it (its forward, and in a training graph its backward:
 * both halves live in the layer's file), its shape rule, and whether it trains. Builders and importers
 * (the ONNX importer to come) construct layers through it and infer shapes without building anything;
 * test/nn/ops.test.ts checks every rule against what its layer really produces.
 *
 * Names are the functional names of torch.nn.functional (conv2d, max_pool2d, leaky_relu, ...); attributes are
 * the layer's constructor arguments in camelCase, as everywhere in `wasmzoo.nn`. Shapes are PyTorch's
 * (NCHW images). The graph-level residual add is src/graph/ops.ts.
 */
import { WasmzooError } from '../errors.js';
import { convOut, pair, poolOut, type Pair } from '../shape.js';
import { numel, shapeStr, type Shape } from '../tensor.js';
import type { Module } from './module.js';
import { Conv2d, type Conv2dOptions } from './layers/conv.js';
import { Linear, type LinearOptions } from './layers/linear.js';
import { AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d, type AdaptiveSize, type AvgPool2dOptions, type MaxPool2dOptions } from './layers/pool.js';
import { BatchNorm1d, BatchNorm2d, LocalResponseNorm, type BatchNormOptions, type LocalResponseNormOptions } from './layers/norm.js';
import { LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh } from './layers/activation.js';
import { Dropout, Flatten, Identity } from './layers/misc.js';
import { Embedding, type EmbeddingOptions } from './layers/embedding.js';
import { GRU, LSTM, RNN, type RNNBaseOptions, type RNNOptions } from './layers/rnn.js';

export interface OpDef<A> {
  /** A new layer for these attributes (random weights until a state dict is loaded). */
  layer(attrs: A): Module;
  /** The output shape for an input shape (PyTorch layout), or a WasmzooError as the layer would throw. */
  shape(input: Shape, attrs: A): Shape;
  /** Whether a training graph can record its backward. */
  trainable(attrs: A): boolean;
}

const bad = (op: string, want: string, got: Shape) => new WasmzooError('E_SHAPE', `${op}: expected input ${want}, got ${shapeStr(got)}`);
const always = () => true;
const same = (input: Shape): Shape => [...input];

function image(op: string, s: Shape, channels?: number): [number, number, number, number] {
  if (s.length !== 4 || (channels !== undefined && s[1] !== channels)) throw bad(op, `[N, ${channels ?? 'C'}, H, W]`, s);
  return s as [number, number, number, number];
}

function windowed(op: string, s: Shape, out: (h: number, w: number) => Pair, channels: number): Shape {
  const [n, , h, w] = image(op, s);
  const [oh, ow] = out(h, w);
  if (oh <= 0 || ow <= 0) throw new WasmzooError('E_SHAPE', `${op}: input ${h}x${w} is too small`);
  return [n, channels, oh, ow];
}

export interface Conv2dAttrs extends Conv2dOptions { inChannels: number; outChannels: number; kernelSize: number | Pair }
export interface LinearAttrs extends LinearOptions { inFeatures: number; outFeatures: number }
export interface MaxPool2dAttrs extends MaxPool2dOptions { kernelSize: number | Pair }
export interface AvgPool2dAttrs extends AvgPool2dOptions { kernelSize: number | Pair }
export interface BatchNormAttrs extends BatchNormOptions { numFeatures: number }
export interface RecurrentAttrs extends RNNOptions { inputSize: number; hiddenSize: number }

function recurrent(make: (a: RecurrentAttrs) => Module): OpDef<RecurrentAttrs> {
  return {
    layer: make,
    shape: (s, a) => {
      const D = a.bidirectional ? 2 : 1;
      if ((s.length !== 3 && s.length !== 2) || s[s.length - 1] !== a.inputSize) throw bad('rnn', `[T, B, ${a.inputSize}] or [T, ${a.inputSize}]`, s);
      return [...s.slice(0, -1), D * a.hiddenSize];
    },
    trainable: always,
  };
}

export const OPS = {
  conv2d: {
    layer: ({ inChannels, outChannels, kernelSize, ...o }: Conv2dAttrs) => new Conv2d(inChannels, outChannels, kernelSize, o),
    shape: (s: Shape, a: Conv2dAttrs) => {
      const m = new ConvGeometry(a);
      return windowed('conv2d', image('conv2d', s, a.inChannels), (h, w) => [
        convOut(h, m.k[0], m.s[0], m.p[0], m.d[0]), convOut(w, m.k[1], m.s[1], m.p[1], m.d[1])], a.outChannels);
    },
    trainable: always,
  } satisfies OpDef<Conv2dAttrs>,
  linear: {
    layer: ({ inFeatures, outFeatures, ...o }: LinearAttrs) => new Linear(inFeatures, outFeatures, o),
    shape: (s: Shape, a: LinearAttrs) => {
      if (s.length < 1 || s.length > 3 || s[s.length - 1] !== a.inFeatures) throw bad('linear', `[..., ${a.inFeatures}]`, s);
      return [...s.slice(0, -1), a.outFeatures];
    },
    trainable: always,
  } satisfies OpDef<LinearAttrs>,
  max_pool2d: {
    layer: ({ kernelSize, ...o }: MaxPool2dAttrs) => new MaxPool2d(kernelSize, o),
    shape: (s: Shape, a: MaxPool2dAttrs) => {
      const k = pair(a.kernelSize, 'kernelSize'), st = pair(a.stride ?? a.kernelSize, 'stride'), p = pair(a.padding ?? 0, 'padding'), d = pair(a.dilation ?? 1, 'dilation');
      const c = !!a.ceilMode;
      return windowed('max_pool2d', s, (h, w) => [poolOut(h, k[0], st[0], p[0], d[0], c), poolOut(w, k[1], st[1], p[1], d[1], c)], s[1]);
    },
    trainable: always,
  } satisfies OpDef<MaxPool2dAttrs>,
  avg_pool2d: {
    layer: ({ kernelSize, ...o }: AvgPool2dAttrs) => new AvgPool2d(kernelSize, o),
    shape: (s: Shape, a: AvgPool2dAttrs) => {
      const k = pair(a.kernelSize, 'kernelSize'), st = pair(a.stride ?? a.kernelSize, 'stride'), p = pair(a.padding ?? 0, 'padding');
      const c = !!a.ceilMode;
      return windowed('avg_pool2d', s, (h, w) => [poolOut(h, k[0], st[0], p[0], 1, c), poolOut(w, k[1], st[1], p[1], 1, c)], s[1]);
    },
    trainable: always,
  } satisfies OpDef<AvgPool2dAttrs>,
  adaptive_avg_pool2d: {
    layer: (a: { outputSize: AdaptiveSize }) => new AdaptiveAvgPool2d(a.outputSize),
    shape: (s: Shape, a: { outputSize: AdaptiveSize }) => adaptiveShape('adaptive_avg_pool2d', s, a.outputSize),
    trainable: always,
  } satisfies OpDef<{ outputSize: AdaptiveSize }>,
  adaptive_max_pool2d: {
    layer: (a: { outputSize: AdaptiveSize }) => new AdaptiveMaxPool2d(a.outputSize),
    shape: (s: Shape, a: { outputSize: AdaptiveSize }) => adaptiveShape('adaptive_max_pool2d', s, a.outputSize),
    // the identity size (output = input) records nothing, so it trains; any other size has no backward yet
    trainable: () => false,
  } satisfies OpDef<{ outputSize: AdaptiveSize }>,
  batch_norm2d: {
    layer: ({ numFeatures, ...o }: BatchNormAttrs) => new BatchNorm2d(numFeatures, o),
    shape: (s: Shape, a: BatchNormAttrs) => same(image('batch_norm2d', s, a.numFeatures)),
    trainable: always,
  } satisfies OpDef<BatchNormAttrs>,
  batch_norm1d: {
    layer: ({ numFeatures, ...o }: BatchNormAttrs) => new BatchNorm1d(numFeatures, o),
    shape: (s: Shape, a: BatchNormAttrs) => {
      if (s.length !== 2 || s[1] !== a.numFeatures) throw bad('batch_norm1d', `[N, ${a.numFeatures}]`, s);
      return same(s);
    },
    trainable: always,
  } satisfies OpDef<BatchNormAttrs>,
  local_response_norm: {
    layer: ({ size, ...o }: LocalResponseNormOptions & { size: number }) => new LocalResponseNorm(size, o),
    shape: (s: Shape) => same(image('local_response_norm', s)),
    trainable: () => false,
  } satisfies OpDef<LocalResponseNormOptions & { size: number }>,
  relu: { layer: () => new ReLU(), shape: same, trainable: always } satisfies OpDef<object>,
  tanh: { layer: () => new Tanh(), shape: same, trainable: always } satisfies OpDef<object>,
  sigmoid: { layer: () => new Sigmoid(), shape: same, trainable: always } satisfies OpDef<object>,
  leaky_relu: {
    layer: (a: { negativeSlope?: number }) => new LeakyReLU(a.negativeSlope),
    shape: same,
    trainable: (a: { negativeSlope?: number }) => (a.negativeSlope ?? 0.01) >= 0,
  } satisfies OpDef<{ negativeSlope?: number }>,
  // softmax and log_softmax train only inside the losses (which include them)
  softmax: { layer: (a: { dim?: number }) => new Softmax(a.dim), shape: same, trainable: () => false } satisfies OpDef<{ dim?: number }>,
  log_softmax: { layer: (a: { dim?: number }) => new LogSoftmax(a.dim), shape: same, trainable: () => false } satisfies OpDef<{ dim?: number }>,
  flatten: {
    layer: (a: { startDim?: number; endDim?: number }) => new Flatten(a.startDim, a.endDim),
    shape: (s: Shape, a: { startDim?: number; endDim?: number }) => {
      const from = (a.startDim ?? 1) < 0 ? (a.startDim ?? 1) + s.length : a.startDim ?? 1;
      const to = (a.endDim ?? -1) < 0 ? (a.endDim ?? -1) + s.length : a.endDim ?? -1;
      if (from < 0 || to >= s.length || from > to) throw new WasmzooError('E_SHAPE', `flatten: cannot flatten dims ${a.startDim ?? 1}..${a.endDim ?? -1} of a ${s.length}-D input`);
      return [...s.slice(0, from), numel(s.slice(from, to + 1)), ...s.slice(to + 1)];
    },
    trainable: always,
  } satisfies OpDef<{ startDim?: number; endDim?: number }>,
  dropout: { layer: (a: { p?: number }) => new Dropout(a.p), shape: same, trainable: always } satisfies OpDef<{ p?: number }>,
  identity: { layer: () => new Identity(), shape: same, trainable: always } satisfies OpDef<object>,
  embedding: {
    layer: ({ numEmbeddings, embeddingDim, ...o }: EmbeddingOptions & { numEmbeddings: number; embeddingDim: number }) => new Embedding(numEmbeddings, embeddingDim, o),
    shape: (s: Shape, a: { embeddingDim: number }) => [...s, a.embeddingDim],
    trainable: always,
  } satisfies OpDef<EmbeddingOptions & { numEmbeddings: number; embeddingDim: number }>,
  rnn: recurrent(({ inputSize, hiddenSize, ...o }) => new RNN(inputSize, hiddenSize, o)),
  lstm: recurrent(({ inputSize, hiddenSize, ...o }: RNNBaseOptions & { inputSize: number; hiddenSize: number }) => new LSTM(inputSize, hiddenSize, o)),
  gru: recurrent(({ inputSize, hiddenSize, ...o }: RNNBaseOptions & { inputSize: number; hiddenSize: number }) => new GRU(inputSize, hiddenSize, o)),
} as const;

export type OpName = keyof typeof OPS;

/** The entry for `name`, or an E_UNSUPPORTED-style argument error listing the known ops. */
export function op(name: string): OpDef<any> {
  const d = (OPS as Record<string, OpDef<any>>)[name];
  if (!d) throw new WasmzooError('E_ARGUMENT', `unknown op ${JSON.stringify(name)}: known ops are ${Object.keys(OPS).join(', ')}`);
  return d;
}

/** Kernel, stride, padding and dilation of a conv as pairs (padding 'valid' / 'same' resolved as Conv2d does). */
class ConvGeometry {
  readonly k: Pair;
  readonly s: Pair;
  readonly p: Pair;
  readonly d: Pair;
  constructor(a: Conv2dAttrs) {
    this.k = pair(a.kernelSize, 'kernelSize');
    this.s = pair(a.stride ?? 1, 'stride');
    this.d = pair(a.dilation ?? 1, 'dilation');
    const pad = a.padding ?? 0;
    this.p = pad === 'valid' ? [0, 0] : pad === 'same' ? [(this.d[0] * (this.k[0] - 1)) / 2, (this.d[1] * (this.k[1] - 1)) / 2] : pair(pad, 'padding');
  }
}

function adaptiveShape(op: string, s: Shape, o: AdaptiveSize): Shape {
  const [n, c, h, w] = image(op, s);
  return [n, c, typeof o === 'number' ? o : o[0] ?? h, typeof o === 'number' ? o : o[1] ?? w];
}
