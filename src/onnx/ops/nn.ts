/**
 * The neural-network ops that carry a model's compute (issue 11): convolutions, GEMMs, pools,
 * normalizations and the integer / quantized forms, one file per family. float32 Conv, ConvTranspose,
 * Gemm/MatMul and the window pools run on the core's wasm kernels; everything else, and float64, in plain
 * TypeScript.
 */
import type { OpTable } from './types.js';
import { CONV_OPS } from './conv.js';
import { MATMUL_OPS } from './matmul.js';
import { POOL_OPS } from './pool.js';
import { NORM_OPS } from './norm.js';
import { QUANT_OPS } from './quant.js';

export const NN_OPS: OpTable = { ...CONV_OPS, ...MATMUL_OPS, ...POOL_OPS, ...NORM_OPS, ...QUANT_OPS };
