/**
 * The README's size and start-up targets, measured on the built files (tools/platform/size.mjs, also
 * `npm run size`): whole library (JS + all three wasm variants) gzipped, and import + init() in fresh Node
 * processes. Start-up is judged on the best of 5 processes: the 2 shared vCPUs here make medians swing 2x.
 * The size is deterministic, so it is asserted against the target. Start-up time is only printed: timing never
 * decides a test here (shared, noisy machines); `npm run size` reports it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain .mjs tool without types
import { sizes, startup, TARGETS } from '../../tools/platform/size.mjs';
import { assertBuilt } from './helpers.js';

describe('size and start-up', () => {
  beforeAll(assertBuilt);

  it('whole library gzipped (dist/wasmzoo.mjs inlines every wasm variant)', () => {
    const s = sizes();
    const gz = s['wasmzoo.mjs'].gzip;
    console.info(`[size] dist/wasmzoo.mjs ${(s['wasmzoo.mjs'].raw / 1000).toFixed(1)} KB raw, ${(gz / 1000).toFixed(1)} KB gzip ` +
      `(target ${TARGETS.gzipBytes / 1000} KB${gz > TARGETS.gzipBytes ? ': NOT MET' : ''}); min.js ${(s['wasmzoo.min.js'].gzip / 1000).toFixed(1)} KB gzip`);
    expect(gz).toBeLessThanOrEqual(TARGETS.gzipBytes);
  });

  it('core + wasmzoo/onnx gzipped (issue 11: the whole library with ONNX)', () => {
    const s = sizes();
    const gz = s['wasmzoo.mjs'].gzip + s['onnx.mjs'].gzip;
    console.info(`[size] dist/wasmzoo.mjs + dist/onnx.mjs ${(gz / 1000).toFixed(1)} KB gzip (target ${TARGETS.gzipBytes / 1000} KB)`);
    expect(gz).toBeLessThanOrEqual(TARGETS.gzipBytes);
  });

  it('import + init({ threads: 1 }) in a fresh Node process', () => {
    const r = startup(5, ['--experimental-wasm-relaxed-simd']);
    console.info(`[size] import + init({ threads: 1 }): best ${r.bestMs.toFixed(1)} ms, median ${r.medianMs.toFixed(1)} ms of ${r.runs} (${r.backend})`);
    expect(r.backend).toBe('relaxed');
  });
});
