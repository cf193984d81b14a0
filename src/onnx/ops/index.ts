/** Every ONNX op wasmzoo runs, by op_type (the tables live beside their implementations). */
import type { OpTable } from './types.js';
import { RNN_OPS } from './rnn.js';

export const ONNX_OPS: OpTable = { ...RNN_OPS };
