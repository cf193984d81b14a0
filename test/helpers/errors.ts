import { WasmzooError } from '../../src/index.js';

/** The WasmzooError that `f` throws or rejects with (any other error passes through; no error fails). */
export async function wasmzooError(f: () => unknown): Promise<WasmzooError> {
  try {
    await f();
  } catch (e) {
    if (e instanceof WasmzooError) return e;
    throw e;
  }
  throw new Error('no error');
}
