/** Every ONNX op wasmzoo runs, by op_type (the tables live beside their implementations). */
import type { OpTable } from './types.js';
import { TENSOR_OPS } from './tensor.js';
import { MATH_OPS } from './math.js';
import { REDUCE_OPS } from './reduce.js';
import { RNN_OPS } from './rnn.js';
import { NN_OPS } from './nn.js';

export const ONNX_OPS: OpTable = { ...TENSOR_OPS, ...MATH_OPS, ...REDUCE_OPS, ...RNN_OPS, ...NN_OPS };
