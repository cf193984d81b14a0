/**
 * VGG (Simonyan & Zisserman 2014, arXiv:1409.1556) as torchvision.models.vgg11 ... vgg19_bn:
 * https://pytorch.org/vision/0.14/models/vgg.html
 *
 *   features    from the cfg table: a number n is Conv2d(c, n, 3, padding 1) [+ BatchNorm2d(n)] + ReLU,
 *               'M' is MaxPool2d(2, 2); indices count every module, as torch.nn.Sequential
 *               (so vgg16 has features.0 / .2 / .5 ... and vgg16_bn features.0 / .1 (bn) / .3 ...)
 *   avgpool     AdaptiveAvgPool2d((7, 7))   identity at 224; smaller inputs (>= 32x32) are pooled up or down
 *   classifier  0 Linear(25088, 4096)  1 ReLU  2 Dropout  3 Linear(4096, 4096)  4 ReLU  5 Dropout
 *               6 Linear(4096, numClasses)
 *
 * Each conv runs with its batch norm folded in and its ReLU fused.
 */
import { Conv2d } from '../nn/layers/conv.js';
import { Linear } from '../nn/layers/linear.js';
import { MaxPool2d, AdaptiveAvgPool2d } from '../nn/layers/pool.js';
import { BatchNorm2d } from '../nn/layers/norm.js';
import { ReLU } from '../nn/layers/activation.js';
import { Dropout, Flatten } from '../nn/layers/misc.js';
import { Sequential } from '../nn/layers/container.js';
import type { Module } from '../nn/module.js';
import type { GraphBuilder, Value } from '../graph/graph.js';
import { ARCH_STATS, ZooModel, buildZoo, type ZooModelOptions, type ZooOptions } from './common.js';

/** torchvision's cfgs: output channels of each 3x3 conv, 'M' for a 2x2 max pool. */
export const VGG_CFGS = {
  A: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  B: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  D: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  E: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
} as const satisfies Record<string, readonly (number | 'M')[]>;

export type VggName = 'vgg11' | 'vgg13' | 'vgg16' | 'vgg19' | 'vgg11_bn' | 'vgg13_bn' | 'vgg16_bn' | 'vgg19_bn';
const CFG_OF: Record<11 | 13 | 16 | 19, keyof typeof VGG_CFGS> = { 11: 'A', 13: 'B', 16: 'D', 19: 'E' };

export class VGG extends ZooModel {
  readonly features: Sequential;
  readonly avgpool?: AdaptiveAvgPool2d;
  readonly classifier?: Sequential;
  private readonly flat = new Flatten();

  constructor(name: VggName, opts: ZooModelOptions = {}) {
    super(name, ARCH_STATS[name], opts);
    const depth = Number(/^vgg(\d+)/.exec(name)![1]) as 11 | 13 | 16 | 19;
    const batchNorm = name.endsWith('_bn');
    const layers: Module[] = [];
    let c = 3;
    for (const v of VGG_CFGS[CFG_OF[depth]]) {
      if (v === 'M') layers.push(new MaxPool2d(2, { stride: 2 }));
      else {
        layers.push(new Conv2d(c, v, 3, { padding: 1 }));
        if (batchNorm) layers.push(new BatchNorm2d(v));
        layers.push(new ReLU());
        c = v;
      }
    }
    this.features = this.child('features', new Sequential(...layers));
    if (this.includeTop) {
      this.avgpool = this.child('avgpool', new AdaptiveAvgPool2d([7, 7]));
      this.classifier = this.child('classifier', new Sequential(
        new Linear(512 * 7 * 7, 4096), new ReLU(), new Dropout(0.5),
        new Linear(4096, 4096), new ReLU(), new Dropout(0.5),
        new Linear(4096, this.numClasses),
      ));
    }
  }

  build(g: GraphBuilder, x: Value): Value {
    x = this.features.build(g, x);
    if (!this.classifier) return this.headless(g, x);
    x = this.avgpool!.build(g, x);
    return this.classifier.build(g, this.flat.build(g, x));
  }
}

const vgg = (name: VggName) => (opts: ZooOptions = {}): Promise<VGG> => buildZoo(name, opts, (o) => new VGG(name, o));

/** VGG-11 (configuration A), 132.9M parameters. */
export const vgg11 = vgg('vgg11');
/** VGG-13 (configuration B), 133.0M parameters. */
export const vgg13 = vgg('vgg13');
/** VGG-16 (configuration D), 138.4M parameters. */
export const vgg16 = vgg('vgg16');
/** VGG-19 (configuration E), 143.7M parameters. */
export const vgg19 = vgg('vgg19');
/** VGG-11 with batch norm after every conv. */
export const vgg11_bn = vgg('vgg11_bn');
/** VGG-13 with batch norm. */
export const vgg13_bn = vgg('vgg13_bn');
/** VGG-16 with batch norm. */
export const vgg16_bn = vgg('vgg16_bn');
/** VGG-19 with batch norm. */
export const vgg19_bn = vgg('vgg19_bn');
