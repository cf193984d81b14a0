/** The ONNX importer's public surface (re-exported by src/index.ts; tree-shaken away when unused). */
export { loadOnnx, inspectOnnx, OnnxModel, type OnnxReport, OPSET_MIN, OPSET_MAX, type LoadOnnxOptions, type OnnxValueInfo } from './session.js';
export type { OnnxTensor, OnnxDType, OnnxData } from './value.js';
export { ONNX_OPS } from './ops/index.js';
