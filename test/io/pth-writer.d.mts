// Types of test/io/pth-writer.mjs (a torch.save-exact checkpoint writer for tests and the fuzzer).
export type PthDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';
/** A storage: little-endian elements. Tensors given the same object share it (as views in torch). */
export interface PthStorage {
  dtype: PthDtype;
  bytes: Uint8Array;
}
export interface PthTensorSpec {
  storage: PthStorage;
  shape: number[];
  /** Default: contiguous. */
  stride?: number[];
  /** In elements; default 0. */
  offset?: number;
}
export interface WritePthOptions {
  /** The archive's top folder (torch uses the file name's stem); default "archive". */
  archive?: string;
  /** Add a `byteorder` record (torch >= 2.1 writes "little"); the storages' bytes must then be in that order. */
  byteorder?: 'little' | 'big';
}
export const DTYPE_SIZE: Record<PthDtype, number>;
export function storage(dtype: PthDtype, data: ArrayBufferView): PthStorage;
export function tensor(dtype: PthDtype, data: ArrayBufferView, shape: number[]): PthTensorSpec;
export function contiguousStride(shape: number[]): number[];
export function writePth(entries: Iterable<[string, PthTensorSpec]> | Record<string, PthTensorSpec>, opts?: WritePthOptions): Uint8Array;
export function zipStored(records: [string, Uint8Array][]): Uint8Array;
export function crc32(data: Uint8Array): number;
