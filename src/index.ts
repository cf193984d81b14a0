/**
 * wasmzoo: portable neural-network runtime. Public API.
 */
export { init, backend, type Backend, type InitOptions } from './runtime/runtime.js';
export { Tensor, tensor, type Shape } from './tensor.js';
export { WasmzooError, type ErrorCode } from './errors.js';
