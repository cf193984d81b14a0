/**
 * torch.nn.Upsample(scale_factor=s, mode='nearest') on images, integer s:
 * https://pytorch.org/docs/stable/generated/torch.nn.Upsample.html
 * No kernel of its own: nearest upsampling by s is exactly avg_pool2d's backward with divisor 1 (each input
 * cell spread to its s x s block), and its backward is avg_pool2d with divisor 1 (the s x s block summed).
 * (Moved here from src/models/autoencoder.ts, whose convolutional decoder uses it.)
 */
import { WasmzooError } from '../../errors.js';
import { at, shapeError, type GraphBuilder, type Value } from '../../graph/graph.js';
import { Module } from '../module.js';
import { isTraining } from '../../graph/tape.js';

/**
 * torch.nn.Upsample(scale_factor=s, mode='nearest') on images, integer s. Forward = avg_pool2d backward
 * with divisor 1 (spread), backward = avg_pool2d with divisor 1 (block sums): both exact.
 */
export class Upsample extends Module {
  readonly scaleFactor: number;
  constructor(scaleFactor = 2) {
    super();
    if (!(Number.isInteger(scaleFactor) && scaleFactor >= 1)) throw new WasmzooError('E_ARGUMENT', `Upsample: scaleFactor must be a positive integer, got ${scaleFactor}`);
    this.scaleFactor = scaleFactor;
  }
  build(g: GraphBuilder, x: Value): Value {
    if (x.shape.length !== 4) throw shapeError(this.name, '[N, C, H, W]', x.shape);
    const s = this.scaleFactor;
    const [n, c, h, w] = x.shape;
    const H = h * s, W = w * s;
    const k = g.rt.k;
    const y = g.value([n, c, H, W]);
    g.op(this.name, [x], (p) => k.avgpool2d_backward_nhwc(at(p, y), at(p, x), n, H, W, c, h, w, s, s, s, s, 0, 0, 1, 1));
    if (isTraining(g)) {
      g.onBackward(() => {
        const dy = g.grad(y);
        if (!dy || !g.needsGrad(x)) return;
        const dx = g.value(x.shape);
        g.op(`${this.name}.backward`, [dy], (p) => k.avgpool2d_nhwc(at(p, dx), at(p, dy), n, H, W, c, h, w, s, s, s, s, 0, 0, 1, 1));
        g.addGrad(x, dx);
      });
    }
    return y;
  }
}
