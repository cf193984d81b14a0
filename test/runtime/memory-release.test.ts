/**
 * Handing memory back (issue 12): wasm memory never shrinks, so a disposed model's memory must be reused by
 * the next one (no growth), and `wasmzoo.release()` must drop it: the next init starts a fresh, small memory.
 */
import { describe, expect, it } from 'vitest';
import { init, memoryStats, release, resnet18, tensor } from '../../src/index.js';

const MiB = 2 ** 20;

describe('memory: reuse after dispose, release() hands it back', () => {
  it('a disposed ResNet-18 leaves room the next one reuses; release() starts a fresh memory', async () => {
    release();
    await init({ threads: 1 });
    const x = tensor(new Float32Array(3 * 224 * 224).fill(0.5), [1, 3, 224, 224]);
    const a = await resnet18();
    const ya = a.forward(x).data.slice();
    const first = memoryStats()!;
    expect(first.memoryBytes).toBeGreaterThan(60 * MiB); // 45 MB of weights + packed copies + activations
    a.dispose();
    expect(memoryStats()!.arenaUsed).toBeLessThan(first.arenaUsed / 10);

    const b = await resnet18();
    const yb = b.forward(x).data;
    const second = memoryStats()!;
    expect(second.memoryBytes, 'the second model fits in the memory the first one freed').toBe(first.memoryBytes);
    expect(second.arenaHighWater).toBeLessThanOrEqual(first.arenaHighWater);
    expect(yb.length).toBe(ya.length);
    b.dispose();

    release();
    expect(memoryStats()).toBeUndefined();
    await init({ threads: 1 });
    expect(memoryStats()!.memoryBytes, 'a fresh runtime starts small').toBeLessThan(8 * MiB);
    release();
  });
});
