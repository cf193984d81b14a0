/**
 * Default parameter initialisation, as PyTorch's reset_parameters for Conv and Linear:
 * weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform with a = sqrt(5) reduces to this),
 * drawn from a seeded generator so a model built without weights is reproducible.
 */
let seed = 0x9e3779b9;

/** Seed the generator used for default initialisation. */
export function manualSeed(s: number): void {
  seed = s >>> 0;
}

function next(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

export function uniform(out: Float32Array, bound: number): void {
  for (let i = 0; i < out.length; i++) out[i] = (next() * 2 - 1) * bound;
}
