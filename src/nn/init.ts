/**
 * Default parameter initialisation, as PyTorch's reset_parameters for Conv and Linear:
 * weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform with a = sqrt(5) reduces to this),
 * drawn from a seeded generator so a model built without weights is reproducible.
 */
import { mulberry32 } from '../random.js';

let next = mulberry32(0x9e3779b9);

/** Seed the generator used for default initialisation. */
export function manualSeed(s: number): void {
  next = mulberry32(s);
}

export function uniform(out: Float32Array, bound: number): void {
  for (let i = 0; i < out.length; i++) out[i] = (next() * 2 - 1) * bound;
}
