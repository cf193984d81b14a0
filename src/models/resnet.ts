/**
 * ResNet (He et al. 2015, arXiv:1512.03385) as torchvision.models.resnet18 ... resnet152, i.e. "ResNet
 * v1.5" (the stride of a downsampling bottleneck sits in its 3x3 conv): https://pytorch.org/vision/0.14/models/resnet.html
 *
 *   conv1 Conv2d(3, 64, 7, stride 2, pad 3, no bias)  bn1  relu  maxpool MaxPool2d(3, 2, pad 1)
 *   layer1..layer4  blocks per RESNET_DEPTHS, 64/128/256/512 planes, stride 1/2/2/2 on each layer's first block
 *   avgpool AdaptiveAvgPool2d(1)   fc Linear(512 * expansion, numClasses)
 *
 * BasicBlock (expansion 1):  conv1 3x3(stride) bn1 relu, conv2 3x3 bn2, + shortcut, relu
 * Bottleneck (expansion 4):  conv1 1x1 bn1 relu, conv2 3x3(stride) bn2 relu, conv3 1x1 bn3, + shortcut, relu
 * shortcut: identity, or `downsample` = Sequential(Conv2d 1x1 (stride, no bias), BatchNorm2d) when the
 * stride or the width changes.
 *
 * Every conv runs with its batch norm folded in and its ReLU fused; at inference the residual add and its ReLU
 * run in the last conv's epilogue (accumulating into the shortcut), in training a separate add fuses the ReLU.
 * Any input of at least 1x1 works (global average pooling), 224x224 is what the weights expect.
 */
import { Act } from '../runtime/activation.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Linear } from '../nn/layers/linear.js';
import { MaxPool2d, AdaptiveAvgPool2d } from '../nn/layers/pool.js';
import { BatchNorm2d } from '../nn/layers/norm.js';
import { Flatten } from '../nn/layers/misc.js';
import { Sequential } from '../nn/layers/container.js';
import { Module } from '../nn/module.js';
import type { GraphBuilder, Value } from '../graph/graph.js';
import { add } from '../graph/ops.js';
import { ARCH_STATS, ZooModel, buildZoo, type ZooModelOptions, type ZooOptions } from './common.js';
import { isTraining } from '../graph/tape.js';

export type ResNetName = 'resnet18' | 'resnet34' | 'resnet50' | 'resnet101' | 'resnet152';

/** Blocks per stage, and the block type, as torchvision's builders. */
export const RESNET_DEPTHS: Record<ResNetName, { block: 'basic' | 'bottleneck'; layers: [number, number, number, number] }> = {
  resnet18: { block: 'basic', layers: [2, 2, 2, 2] },
  resnet34: { block: 'basic', layers: [3, 4, 6, 3] },
  resnet50: { block: 'bottleneck', layers: [3, 4, 6, 3] },
  resnet101: { block: 'bottleneck', layers: [3, 4, 23, 3] },
  resnet152: { block: 'bottleneck', layers: [3, 8, 36, 3] },
};

const conv3x3 = (i: number, o: number, stride = 1) => new Conv2d(i, o, 3, { stride, padding: 1, bias: false });
const conv1x1 = (i: number, o: number, stride = 1) => new Conv2d(i, o, 1, { stride, bias: false });

/** Sequential(conv1x1, BatchNorm2d): keys downsample.0.*, downsample.1.* */
function downsample(i: number, o: number, stride: number): Sequential {
  return new Sequential(conv1x1(i, o, stride), new BatchNorm2d(o));
}

export class BasicBlock extends Module {
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample?: Sequential;
  constructor(inplanes: number, planes: number, stride: number) {
    super();
    this.conv1 = this.child('conv1', conv3x3(inplanes, planes, stride));
    this.bn1 = this.child('bn1', new BatchNorm2d(planes));
    this.conv2 = this.child('conv2', conv3x3(planes, planes));
    this.bn2 = this.child('bn2', new BatchNorm2d(planes));
    if (stride !== 1 || inplanes !== planes) this.downsample = this.child('downsample', downsample(inplanes, planes, stride));
  }
  build(g: GraphBuilder, x: Value): Value {
    if (!isTraining(g)) {
      // Inference: the residual add and its ReLU run in conv2's epilogue, accumulating into the shortcut
      // (the downsample's output, or x itself: the block is x's last reader, so it is updated in place).
      const identity = this.downsample ? this.downsample.build(g, x) : x;
      const out = this.conv1.build(g, x, { bn: this.bn1, act: Act.Relu });
      return this.conv2.build(g, out, { bn: this.bn2, act: Act.Relu, into: { value: identity, channelOffset: 0 }, accumulate: true });
    }
    let out = this.conv1.build(g, x, { bn: this.bn1, act: Act.Relu });
    out = this.conv2.build(g, out, { bn: this.bn2 });
    const identity = this.downsample ? this.downsample.build(g, x) : x;
    return add(g, `${this.name}.add`, out, identity, Act.Relu);
  }
}

export class Bottleneck extends Module {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly downsample?: Sequential;
  constructor(inplanes: number, planes: number, stride: number) {
    super();
    const width = planes; // groups 1, base width 64
    const out = planes * Bottleneck.expansion;
    this.conv1 = this.child('conv1', conv1x1(inplanes, width));
    this.bn1 = this.child('bn1', new BatchNorm2d(width));
    this.conv2 = this.child('conv2', conv3x3(width, width, stride));
    this.bn2 = this.child('bn2', new BatchNorm2d(width));
    this.conv3 = this.child('conv3', conv1x1(width, out));
    this.bn3 = this.child('bn3', new BatchNorm2d(out));
    if (stride !== 1 || inplanes !== out) this.downsample = this.child('downsample', downsample(inplanes, out, stride));
  }
  build(g: GraphBuilder, x: Value): Value {
    if (!isTraining(g)) {
      // Inference: residual add + ReLU fused into conv3's epilogue (see BasicBlock.build).
      const identity = this.downsample ? this.downsample.build(g, x) : x;
      let out = this.conv1.build(g, x, { bn: this.bn1, act: Act.Relu });
      out = this.conv2.build(g, out, { bn: this.bn2, act: Act.Relu });
      return this.conv3.build(g, out, { bn: this.bn3, act: Act.Relu, into: { value: identity, channelOffset: 0 }, accumulate: true });
    }
    let out = this.conv1.build(g, x, { bn: this.bn1, act: Act.Relu });
    out = this.conv2.build(g, out, { bn: this.bn2, act: Act.Relu });
    out = this.conv3.build(g, out, { bn: this.bn3 });
    const identity = this.downsample ? this.downsample.build(g, x) : x;
    return add(g, `${this.name}.add`, out, identity, Act.Relu);
  }
}

export class ResNet extends ZooModel {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly maxpool: MaxPool2d;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly layer4: Sequential;
  readonly avgpool?: AdaptiveAvgPool2d;
  readonly fc?: Linear;
  private readonly flat = new Flatten();

  constructor(name: ResNetName, opts: ZooModelOptions = {}) {
    super(name, ARCH_STATS[name], opts);
    const { block, layers } = RESNET_DEPTHS[name];
    const Block = block === 'basic' ? BasicBlock : Bottleneck;
    this.conv1 = this.child('conv1', new Conv2d(3, 64, 7, { stride: 2, padding: 3, bias: false }));
    this.bn1 = this.child('bn1', new BatchNorm2d(64));
    this.maxpool = this.child('maxpool', new MaxPool2d(3, { stride: 2, padding: 1 }));
    let inplanes = 64;
    const stage = (planes: number, blocks: number, stride: number): Sequential => {
      const bs: Module[] = [];
      for (let i = 0; i < blocks; i++) {
        bs.push(new Block(inplanes, planes, i === 0 ? stride : 1));
        inplanes = planes * Block.expansion;
      }
      return new Sequential(...bs);
    };
    this.layer1 = this.child('layer1', stage(64, layers[0], 1));
    this.layer2 = this.child('layer2', stage(128, layers[1], 2));
    this.layer3 = this.child('layer3', stage(256, layers[2], 2));
    this.layer4 = this.child('layer4', stage(512, layers[3], 2));
    if (this.includeTop) {
      this.avgpool = this.child('avgpool', new AdaptiveAvgPool2d(1));
      this.fc = this.child('fc', new Linear(512 * Block.expansion, this.numClasses));
    }
  }

  build(g: GraphBuilder, x: Value): Value {
    x = this.conv1.build(g, x, { bn: this.bn1, act: Act.Relu });
    x = this.maxpool.build(g, x);
    for (const layer of [this.layer1, this.layer2, this.layer3, this.layer4]) x = layer.build(g, x);
    if (!this.fc) return this.headless(g, x);
    return this.fc.build(g, this.flat.build(g, this.avgpool!.build(g, x)));
  }
}

const resnet = (name: ResNetName) => (opts: ZooOptions = {}): Promise<ResNet> => buildZoo(name, opts, (o) => new ResNet(name, o));

/** ResNet-18, 11.7M parameters. */
export const resnet18 = resnet('resnet18');
/** ResNet-34, 21.8M parameters. */
export const resnet34 = resnet('resnet34');
/** ResNet-50, 25.6M parameters. */
export const resnet50 = resnet('resnet50');
/** ResNet-101, 44.5M parameters. */
export const resnet101 = resnet('resnet101');
/** ResNet-152, 60.2M parameters. */
export const resnet152 = resnet('resnet152');
