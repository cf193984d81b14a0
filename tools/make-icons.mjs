// Draws the demo app's icons (web/icons/*.png: 32 favicon, 192 and 512 "any", 512 maskable) with pngjs: a
// 3x3 grid of rounded squares (the zoo's "cells") on the accent colour. The maskable icon keeps its drawing
// inside the central 80% safe zone, as the PWA maskable spec asks. Run once when the design changes:
//   node tools/make-icons.mjs      (writes web/icons/; the PNGs are committed, a few KB each)
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { PNG } from 'pngjs';

const OUT = fileURLToPath(new URL('../web/icons/', import.meta.url));
const ACCENT = [0x3b, 0x7d, 0xdd], DARK = [0x15, 0x17, 0x1b], LIGHT = [0xf6, 0xf7, 0xf9];

/** Inside a rounded square [x0, x0+s) x [y0, y0+s) with corner radius r? */
function inRounded(x, y, x0, y0, s, r) {
  const cx = Math.min(Math.max(x, x0 + r), x0 + s - r), cy = Math.min(Math.max(y, y0 + r), y0 + s - r);
  return x >= x0 && x < x0 + s && y >= y0 && y < y0 + s && (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

function icon(size, maskable) {
  const png = new PNG({ width: size, height: size });
  const safe = maskable ? 0.8 : 1; // the maskable safe zone: a centred circle of 80% the width
  const bgRadius = maskable ? 0 : size * 0.18; // maskable icons are full-bleed; the platform masks them
  const grid = size * safe * 0.62, cell = grid / 3.4, gap = (grid - 3 * cell) / 2, g0 = (size - grid) / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const px = x + 0.5, py = y + 0.5;
      let rgb = null;
      if (inRounded(px, py, 0, 0, size, bgRadius)) rgb = ACCENT;
      for (let i = 0; i < 9 && rgb; i++) {
        const cx = g0 + (i % 3) * (cell + gap), cy = g0 + Math.floor(i / 3) * (cell + gap);
        if (inRounded(px, py, cx, cy, cell, cell * 0.22)) rgb = i === 4 ? DARK : LIGHT;
      }
      const o = (y * size + x) * 4;
      if (rgb) png.data.set([...rgb, 255], o);
      else png.data.set([0, 0, 0, 0], o);
    }
  }
  return PNG.sync.write(png, { colorType: 6 });
}

mkdirSync(OUT, { recursive: true });
for (const [name, size, maskable] of [['icon-32.png', 32, false], ['icon-192.png', 192, false], ['icon-512.png', 512, false], ['icon-maskable-512.png', 512, true]]) {
  const bytes = icon(size, maskable);
  writeFileSync(join(OUT, name), bytes);
  console.log(`web/icons/${name}: ${bytes.length} bytes`);
}
