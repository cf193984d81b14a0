/**
 * Losses with PyTorch's default mean reduction: cross-entropy on logits (torch.nn.CrossEntropyLoss, class
 * index targets), mean squared error (MSELoss), binary cross-entropy on logits (BCEWithLogitsLoss). The loss
 * op writes the gradient of the mean loss into the output's gradient and the value into a holder the
 * trainer reads after the step.
 */
import { WasmzooError } from '../errors.js';
import { numel, shapeStr, type Shape } from '../tensor.js';
import { at, type Value } from '../graph/graph.js';
import type { TrainGraph } from '../graph/tape.js';
import type { LossName } from '../graph/training.js';

export type { LossName };
export const LOSSES: readonly LossName[] = ['crossEntropy', 'mse', 'bceWithLogits'];

export function checkLoss(loss: string): LossName {
  if (!(LOSSES as readonly string[]).includes(loss)) {
    throw new WasmzooError('E_ARGUMENT', `unknown loss ${JSON.stringify(loss)}: use one of ${LOSSES.join(', ')}`);
  }
  return loss as LossName;
}

/** Shape of the target the loss expects for a model output of shape `out`. */
export function targetShape(loss: LossName, out: Shape): Shape {
  return loss === 'crossEntropy' ? [out[0]] : out;
}

/** Check a target tensor's shape against the model output, naming both. */
export function checkTarget(loss: LossName, out: Shape, target: Shape): void {
  const want = targetShape(loss, out);
  if (target.length !== want.length || target.some((d, i) => d !== want[i])) {
    throw new WasmzooError('E_SHAPE', `${loss} loss: target must be ${shapeStr(want)} for a model output of ${shapeStr(out)}, got ${shapeStr(target)}`);
  }
  if (loss === 'crossEntropy' && out.length !== 2) {
    throw new WasmzooError('E_SHAPE', `crossEntropy loss: the model output must be [N, classes] logits, got ${shapeStr(out)}`);
  }
}

/** Record the loss of `out` against `target` and seed out's gradient. */
export function recordLoss(g: TrainGraph, loss: LossName, out: Value, target: Value, holder: { value: number }): void {
  const k = g.rt.k;
  const dout = g.value(out.shape);
  const n = numel(out.shape);
  if (loss === 'crossEntropy') {
    const [rows, cols] = out.shape;
    g.op('loss.cross_entropy', [out, target], (p) => {
      holder.value = k.softmax_cross_entropy(at(p, dout), at(p, out), at(p, target), rows, cols, 1 / rows);
    });
  } else if (loss === 'mse') {
    g.op('loss.mse', [out, target], (p) => {
      holder.value = k.mse_loss(at(p, dout), at(p, out), at(p, target), n, 1 / n);
    });
  } else {
    g.op('loss.bce_with_logits', [out, target], (p) => {
      holder.value = k.bce_with_logits(at(p, dout), at(p, out), at(p, target), n, 1 / n);
    });
  }
  g.addGrad(out, dout);
}
