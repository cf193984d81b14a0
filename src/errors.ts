/**
 * The package's one error class. Messages name the layer, tensor or header part at fault, what was expected
 * and what was found. `code` lets callers branch without parsing text.
 */
export type ErrorCode =
  | 'E_SAFETENSORS' // malformed or unsupported safetensors bytes
  | 'E_PICKLE' // a malformed PyTorch checkpoint (.pth zip, pickle, storages), or a pickle global outside the whitelist
  | 'E_STATE_DICT' // missing / unexpected / mismatched keys when binding weights
  | 'E_SHAPE' // an input or parameter of the wrong shape
  | 'E_DTYPE' // a dtype that cannot feed the target
  | 'E_RUNTIME' // wasm runtime not ready, backend unavailable
  | 'E_ARGUMENT' // a bad constructor or function argument
  | 'E_IO' // weights could not be fetched or read
  | 'E_DISPOSED' // a disposed model was used
  | 'E_ONNX' // malformed ONNX bytes (protobuf, tensors, graph structure)
  | 'E_UNSUPPORTED'; // an ONNX op, attribute or dtype wasmzoo does not run

export class WasmzooError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'WasmzooError';
    this.code = code;
  }
}
