/**
 * PNG and JPEG files to an RGBA ImageLike for the CLI, decoded in pure JavaScript by `pngjs` and `jpeg-js`
 * (dependencies of the CLI only; the library never imports them). The format is told by the magic bytes,
 * not the file name.
 */
import { PNG } from 'pngjs';
import { decode as decodeJpeg } from 'jpeg-js';
import type { ImageLike } from '../index.js';

export function decodeImage(bytes: Uint8Array, name: string): ImageLike & { format: 'png' | 'jpeg' } {
  const isPng = bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (!isPng && !isJpeg) throw new CliError(`${name}: not a PNG or JPEG file`);
  try {
    if (isPng) {
      const img = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)); // pngjs reads with Buffer methods
      return { data: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength), width: img.width, height: img.height, channels: 4, format: 'png' };
    }
    const img = decodeJpeg(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: 100, maxMemoryUsageInMB: 1024 });
    return { data: img.data, width: img.width, height: img.height, channels: 4, format: 'jpeg' };
  } catch (e) {
    // the decoders' own words are about their internals (pngjs: "There are some read requests waitng on
    // finished stream"); a size limit of jpeg-js is worth passing on
    const msg = (e as Error).message ?? '';
    if (!isPng && /limit|exceed/i.test(msg)) throw new CliError(`${name}: JPEG too large to decode (${msg})`);
    throw new CliError(`${name}: truncated or corrupt ${isPng ? 'PNG' : 'JPEG'}`);
  }
}

/** Mean grey value of the one-pixel border of an RGBA image (0..255). */
export function borderMean(img: ImageLike): number {
  const { data, width: w, height: h } = img;
  let s = 0, n = 0;
  const at = (x: number, y: number) => {
    const i = (y * w + x) * 4;
    s += 0.2989 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
    n++;
  };
  for (let x = 0; x < w; x++) { at(x, 0); at(x, h - 1); }
  for (let y = 1; y < h - 1; y++) { at(0, y); at(w - 1, y); }
  return s / n;
}

/** A user mistake (bad argument, bad file): printed as one line, exit code 1 (2 for usage). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}
