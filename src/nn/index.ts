/** `wasmzoo.nn`: layers with PyTorch's names, semantics and state_dict keys (constructor options in camelCase). */
export { Module, Parameter, type LoadOptions } from './module.js';
export { Conv2d, type Conv2dOptions } from './layers/conv.js';
export { Linear, type LinearOptions } from './layers/linear.js';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, type MaxPool2dOptions, type AvgPool2dOptions, type AdaptiveSize } from './layers/pool.js';
export { BatchNorm1d, BatchNorm2d, LocalResponseNorm, type BatchNormOptions, type LocalResponseNormOptions } from './layers/norm.js';
export { ReLU, LeakyReLU, Tanh, Sigmoid, Softmax, LogSoftmax } from './layers/activation.js';
export { Flatten, Dropout, Identity } from './layers/misc.js';
export { Unflatten } from './layers/unflatten.js';
export { Upsample } from './layers/upsample.js';
export { Sequential } from './layers/container.js';
export { manualSeed } from './init.js';
export { IOPlan } from '../graph/ioplan.js';
export { RNN, LSTM, GRU, RNNBase, RecurrentState, RecurrentOutput, type RNNOptions, type RNNBaseOptions, type RNNMode, type StateInput, type StateJSON } from './layers/rnn.js';
export { Embedding, type EmbeddingOptions } from './layers/embedding.js';
export { OPS, op, type OpDef, type OpName } from './ops.js';
