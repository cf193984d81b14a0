/**
 * torch.nn.Unflatten(1, (C, H, W)): flat rows [N, C*H*W] in PyTorch's C, H, W order back to images
 * [N, C, H, W] (NHWC inside). https://pytorch.org/docs/stable/generated/torch.nn.Unflatten.html
 * (Moved here from src/models/autoencoder.ts; the autoencoder and the VAE use unflattenValue directly.)
 */
import { WasmzooError } from '../../errors.js';
import { numel, shapeStr } from '../../tensor.js';
import { at, shapeError, type GraphBuilder, type Value } from '../../graph/graph.js';
import { Module } from '../module.js';
import { isTraining } from '../../graph/tape.js';

/**
 * A flat row [N, C*H*W] in C, H, W order as an image [N, C, H, W] (NHWC inside). A view when C = 1 or
 * H = W = 1 (same bytes), else one transpose; its training backward is the inverse transpose.
 */
export function unflattenValue(g: GraphBuilder, name: string, x: Value, chw: readonly number[]): Value {
  const [c, h, w] = chw;
  const n = x.shape[0];
  const shape = [n, c, h, w];
  if (numel(x.shape) !== n * c * h * w) throw new WasmzooError('E_SHAPE', `${name}: cannot unflatten ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
  const train = isTraining(g) ? g : undefined;
  // a view shares x's gradient entry (TrainGraph keys gradients by buffer, offset and size): no backward
  if (c === 1 || (h === 1 && w === 1)) return { ...x, shape };
  const k = g.rt.k;
  const y = g.value(shape);
  g.op(name, [x], (p) => k.nchw_to_nhwc(at(p, y), at(p, x), n, c, h, w));
  train?.onBackward(() => {
    const dy = train.grad(y);
    if (!dy || !train.needsGrad(x)) return;
    const dx = train.value(x.shape);
    train.op(`${name}.backward`, [dy], (p) => k.nhwc_to_nchw(at(p, dx), at(p, dy), n, c, h, w));
    train.addGrad(x, dx);
  });
  return y;
}

/** torch.nn.Unflatten(1, (C, H, W)). No parameters. */
export class Unflatten extends Module {
  readonly chw: [number, number, number];
  constructor(chw: [number, number, number]) {
    super();
    this.chw = chw;
  }
  build(g: GraphBuilder, x: Value): Value {
    if (x.shape.length !== 2 || x.shape[1] !== numel(this.chw)) throw shapeError(this.name, `[N, ${numel(this.chw)}]`, x.shape);
    return unflattenValue(g, this.name, x, this.chw);
  }
}
