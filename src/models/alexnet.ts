/**
 * AlexNet as torchvision.models.alexnet (Krizhevsky et al. 2012, the one-GPU variant of "One weird trick",
 * arXiv:1404.5997): https://pytorch.org/vision/0.14/models/alexnet.html
 *
 *   features    0 Conv2d(3, 64, 11, stride 4, pad 2)  1 ReLU  2 MaxPool2d(3, 2)
 *               3 Conv2d(64, 192, 5, pad 2)            4 ReLU  5 MaxPool2d(3, 2)
 *               6 Conv2d(192, 384, 3, pad 1)           7 ReLU
 *               8 Conv2d(384, 256, 3, pad 1)           9 ReLU
 *              10 Conv2d(256, 256, 3, pad 1)          11 ReLU 12 MaxPool2d(3, 2)     -> 256x6x6 at 224
 *   avgpool     AdaptiveAvgPool2d((6, 6))  (identity at 224; any input >= 63x63 works)
 *   classifier  0 Dropout  1 Linear(9216, 4096)  2 ReLU  3 Dropout  4 Linear(4096, 4096)  5 ReLU
 *               6 Linear(4096, numClasses)
 *
 * Every conv and linear runs with its ReLU fused; dropout is the identity at inference.
 */
import { Conv2d } from '../nn/layers/conv.js';
import { Linear } from '../nn/layers/linear.js';
import { MaxPool2d, AdaptiveAvgPool2d } from '../nn/layers/pool.js';
import { ReLU } from '../nn/layers/activation.js';
import { Dropout, Flatten } from '../nn/layers/misc.js';
import { Sequential } from '../nn/layers/container.js';
import type { GraphBuilder, Value } from '../graph/graph.js';
import { ARCH_STATS, ZooModel, buildZoo, type ZooModelOptions, type ZooOptions } from './common.js';

/** The AlexNet-style classifier shared with ZFNet (torchvision's indices 0..6). */
export function alexClassifier(inFeatures: number, numClasses: number): Sequential {
  return new Sequential(
    new Dropout(0.5), new Linear(inFeatures, 4096), new ReLU(),
    new Dropout(0.5), new Linear(4096, 4096), new ReLU(),
    new Linear(4096, numClasses),
  );
}

/**
 * The shape AlexNet and ZFNet share: `features` (a Sequential of convs), then AdaptiveAvgPool2d((6, 6)) and
 * the AlexNet classifier, or the headless output when includeTop is false.
 */
export abstract class AlexStyleNet extends ZooModel {
  readonly features: Sequential;
  readonly avgpool?: AdaptiveAvgPool2d;
  readonly classifier?: Sequential;
  private readonly flat = new Flatten();

  protected constructor(name: 'alexnet' | 'zfnet', opts: ZooModelOptions, features: Sequential) {
    super(name, ARCH_STATS[name], opts);
    this.features = this.child('features', features);
    if (this.includeTop) {
      this.avgpool = this.child('avgpool', new AdaptiveAvgPool2d([6, 6]));
      this.classifier = this.child('classifier', alexClassifier(256 * 6 * 6, this.numClasses));
    }
  }

  build(g: GraphBuilder, x: Value): Value {
    x = this.features.build(g, x);
    if (!this.classifier) return this.headless(g, x);
    x = this.avgpool!.build(g, x);
    return this.classifier.build(g, this.flat.build(g, x));
  }
}

export class AlexNet extends AlexStyleNet {
  constructor(opts: ZooModelOptions = {}) {
    super('alexnet', opts, new Sequential(
      new Conv2d(3, 64, 11, { stride: 4, padding: 2 }), new ReLU(), new MaxPool2d(3, { stride: 2 }),
      new Conv2d(64, 192, 5, { padding: 2 }), new ReLU(), new MaxPool2d(3, { stride: 2 }),
      new Conv2d(192, 384, 3, { padding: 1 }), new ReLU(),
      new Conv2d(384, 256, 3, { padding: 1 }), new ReLU(),
      new Conv2d(256, 256, 3, { padding: 1 }), new ReLU(), new MaxPool2d(3, { stride: 2 }),
    ));
  }
}

/** `await wasmzoo.alexnet({ weights, numClasses })`: torchvision's AlexNet (61.1M parameters). */
export function alexnet(opts: ZooOptions = {}): Promise<AlexNet> {
  return buildZoo('alexnet', opts, (o) => new AlexNet(o));
}
