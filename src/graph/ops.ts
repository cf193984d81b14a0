/**
 * Graph-level ops that belong to no layer: the residual add, forward and backward side by side.
 */
import { WasmzooError } from '../errors.js';
import { Act } from '../runtime/activation.js';
import { numel, shapeStr } from '../tensor.js';
import { at, type GraphBuilder, type Value } from './graph.js';
import { actGrad, isTraining, type TrainGraph } from './tape.js';

/** Elementwise a + b (same shape), then an activation: residual connections. */
export function add(g: GraphBuilder, name: string, a: Value, b: Value, act: Act = Act.None): Value {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new WasmzooError('E_SHAPE', `${name}: cannot add ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  }
  const y = g.value(a.shape);
  const n = numel(a.shape);
  const k = g.rt.k;
  g.op(name, [a, b], (p) => k.add(at(p, y), at(p, a), at(p, b), n, act.code, act.alpha));
  if (isTraining(g)) addBackward(g, name, a, b, y, act);
  return y;
}

/** y = act(a + b) gives both a and b the gradient dz. */
function addBackward(g: TrainGraph, name: string, a: Value, b: Value, y: Value, act: Act): void {
  g.onBackward(() => {
    const dy = g.grad(y);
    if (!dy) return;
    const dz = actGrad(g, name, y, dy, act);
    g.addGrad(a, dz);
    // b gets its own copy: grad(a) may later be accumulated into in place, which must not change grad(b).
    if (g.needsGrad(b)) {
      const k = g.rt.k;
      const n = numel(y.shape);
      const copy = g.value(y.shape);
      g.op(`${name}.grad_copy`, [dz], (p) => k.copy_channels(at(p, copy), at(p, dz), 1, n, n, n));
      g.addGrad(b, copy);
    }
  });
}
