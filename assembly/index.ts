// The only export surface of the kernels. Every variant (scalar, simd, relaxed) exports exactly this set;
// src/runtime/kernels.ts is its typed mirror.
export * from './memory';
export * from './gemm';
export * from './conv2d';
export * from './conv2d_winograd';
export * from './pool';
export * from './elementwise';
export * from './rnn';
export * from './backward/elementwise';
export * from './pool_backward';
export * from './conv2d_backward';
export * from './loss';
export * from './optim';
export * from './vae';
export * from './rnn_backward';
