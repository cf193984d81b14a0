/**
 * Inflating the kernels the bundle carries zlib-compressed (tools/inline-binary.mjs `?deflate`: a third
 * smaller gzipped). DecompressionStream('deflate') is in every engine with wasm SIMD that wasmzoo targets
 * (Node >= 18, Deno, Chromium >= 80, Safari >= 16.4, Firefox >= 113, workerd); an engine without it cannot
 * inflate, and init() moves on to the next variant (the scalar kernels are stored plain for such engines).
 */
import { WasmzooError } from '../errors.js';

export async function inflate(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  // Node (and Deno's node: layer): zlib directly. Node's DecompressionStream loads its web-streams machinery
  // on first use, 50 ms of start-up here against 1 ms for inflateSync.
  const zlib = (globalThis as { process?: { getBuiltinModule?: (id: string) => { inflateSync?: (b: Uint8Array) => Uint8Array } | undefined } })
    .process?.getBuiltinModule?.('node:zlib');
  if (typeof zlib?.inflateSync === 'function') {
    const out = zlib.inflateSync(bytes);
    return new Uint8Array(out.buffer as ArrayBuffer, out.byteOffset, out.byteLength);
  }
  const DS = (globalThis as { DecompressionStream?: new (format: string) => TransformStream<Uint8Array, Uint8Array> }).DecompressionStream;
  if (typeof DS !== 'function') throw new WasmzooError('E_RUNTIME', 'this engine has no DecompressionStream to unpack the SIMD kernels');
  const stream = new Blob([bytes]).stream().pipeThrough(new DS('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
