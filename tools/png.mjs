// A tiny PNG writer (8-bit grayscale, no interlace) for example output such as the VAE's sample grid.
// Platform-free: the caller passes the zlib compressor, e.g. node:zlib's deflateSync (PNG's IDAT is a zlib
// stream of the scanlines, each prefixed by its filter byte; filter 0 = none).
//   encodeGrayPng(width, height, pixels /* Uint8Array, row-major */, deflate) -> Uint8Array
//   imageGrid(images /* Float32Array, n*h*w in [0, 1] */, n, h, w, cols, pad, scale) -> { pixels, width, height }

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

export function encodeGrayPng(width, height, pixels, deflate) {
  if (pixels.length !== width * height) throw new Error(`encodeGrayPng: ${pixels.length} pixels for ${width}x${height}`);
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr.set([8, 0, 0, 0, 0], 8); // bit depth 8, colour type 0 (gray), deflate, filter set 0, no interlace
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const parts = [new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', new Uint8Array(deflate(raw))), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

/**
 * Tile n images of h x w (values in [0, 1]) into a grid with `cols` columns and `pad` pixels of black
 * between, each image pixel drawn as a scale x scale block (nearest neighbour).
 */
export function imageGrid(images, n, h, w, cols = 8, pad = 2, scale = 1) {
  if (scale !== 1) {
    const big = new Float32Array(n * h * w * scale * scale);
    const W = w * scale, H = h * scale;
    for (let i = 0; i < n; i++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      big[i * H * W + y * W + x] = images[i * h * w + Math.floor(y / scale) * w + Math.floor(x / scale)];
    }
    return imageGrid(big, n, H, W, cols, pad * scale, 1);
  }
  const rows = Math.ceil(n / cols);
  const width = cols * w + (cols + 1) * pad, height = rows * h + (rows + 1) * pad;
  const pixels = new Uint8Array(width * height);
  for (let i = 0; i < n; i++) {
    const ox = pad + (i % cols) * (w + pad), oy = pad + Math.floor(i / cols) * (h + pad);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = images[i * h * w + y * w + x];
        pixels[(oy + y) * width + ox + x] = Math.max(0, Math.min(255, Math.round(v * 255)));
      }
    }
  }
  return { pixels, width, height };
}
