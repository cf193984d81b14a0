// The only export surface of the kernels: every kernel file, grouped by op family, forward before backward.
// Every variant (scalar, simd, relaxed) exports exactly this set; src/runtime/kernels.ts is its typed mirror
// and test/runtime/contract.test.ts checks that the two agree. Helper files (ptr.ts, simd.ts, activation.ts,
// channel_sum.ts, conv2d_tile.ts) are imported by kernels, never re-exported here: what they export is for
// other AssemblyScript files, not for the wasm module. See README.md for the layout and conventions.
export * from './memory';

// dense and convolution (a Linear layer's backward is gemm again, plus bias_grad)
// (named: gemm.ts also exports gemm_run, the in-module entry that leaves alpha as its caller set it)
export { gemm_packed_b_size, gemm_pack_b, gemm_packed, gemm } from './gemm';
export * from './conv2d';
export * from './conv2d_winograd';
export * from './conv2d_backward';

// pooling
export * from './pool';
export * from './pool_backward';

// elementwise, softmax, normalization, layout
export * from './elementwise';
export * from './elementwise_backward';
export * from './softmax';
export * from './norm';
export * from './norm_backward';
export * from './layout';

// embedding, dropout and VAE sampling
export * from './embedding_backward';
export * from './random';
export * from './vae';

// recurrent: inference steps, training cells
export * from './rnn';
export * from './rnn_cell';
export * from './rnn_cell_backward';

// training: losses (forward and gradient in one pass), optimizer steps
export * from './loss';
export * from './optim';
