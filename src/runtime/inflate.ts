/**
 * Inflating the kernel container the bundle carries zlib-compressed (src/runtime/embedded-kernels.ts).
 * Node and Deno: node:zlib. Browsers and workers: DecompressionStream('deflate') (Chromium >= 80,
 * Safari >= 16.4, Firefox >= 113, workerd). Older engines with wasm but neither (Firefox 89-112, older
 * Safari): the small JavaScript inflater in inflate-js.ts, slower but only they pay for it.
 */
import { inflateZlib } from './inflate-js.js';

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
  if (typeof DS !== 'function') return inflateZlib(bytes);
  const stream = new Blob([bytes]).stream().pipeThrough(new DS('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
