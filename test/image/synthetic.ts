/**
 * The closed-form synthetic test image of tools/gen_preprocess_goldens.py `synthetic()`: HWC uint8, rings
 * that wrap around (sharp edges, so antialiasing matters) plus hash noise; alpha 255 when c == 4.
 * uint32 arithmetic as numpy's (Math.imul wraps the same way).
 */
export function synthetic(h: number, w: number, c: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(h * w * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        const noise = ((Math.imul(x, 73856093) ^ Math.imul(y, 19349663) ^ Math.imul(ch, 83492791)) >>> 26);
        const v = ((Math.imul(x, x) + Math.imul(y, y)) >>> 6) + ch * 50 + noise;
        out[(y * w + x) * c + ch] = c === 4 && ch === 3 ? 255 : v & 255;
      }
    }
  }
  return out;
}
