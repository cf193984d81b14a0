// Backward kernels (training): re-exported by assembly/index.ts.
export * from './elementwise';
export * from './pool';
export * from './conv2d';
