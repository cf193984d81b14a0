/**
 * wasmzoo: portable neural-network runtime. Public API.
 */
export { init, backend, type Backend, type InitOptions } from './runtime/runtime.js';
export { Tensor, tensor, type Shape } from './tensor.js';
export { WasmzooError, type ErrorCode } from './errors.js';
export * as nn from './nn/index.js';
export { readSafetensors, writeSafetensors } from './io/safetensors.js';
export type { WeightSource } from './io/weights.js';
export { LeNet5, lenet5, type LeNet5Options } from './models/lenet.js';
