/**
 * GoogLeNet (Szegedy et al. 2014, arXiv:1409.4842) as torchvision.models.googlenet (Inception v1 with
 * batch norm): https://pytorch.org/vision/0.14/models/googlenet.html
 *
 *   conv1 BasicConv2d(3, 64, 7, stride 2, pad 3)  maxpool1 MaxPool2d(3, 2, ceil)
 *   conv2 BasicConv2d(64, 64, 1)  conv3 BasicConv2d(64, 192, 3, pad 1)  maxpool2 MaxPool2d(3, 2, ceil)
 *   inception3a, 3b  maxpool3  inception4a..4e  maxpool4 MaxPool2d(2, 2, ceil)  inception5a, 5b   (INCEPTION_ROWS)
 *   avgpool AdaptiveAvgPool2d(1)  dropout(0.2)  fc Linear(1024, numClasses)
 *
 * BasicConv2d = conv (no bias) + BatchNorm2d(eps 0.001) + ReLU: keys `<name>.conv.weight`, `<name>.bn.*`.
 * Inception(in, c1, c3red, c3, c5red, c5, pool): branch1 1x1; branch2 1x1 -> 3x3; branch3 1x1 -> 3x3
 * (NOTE: torchvision's "5x5" branch uses a 3x3 kernel, a known quirk its pretrained weights depend on);
 * branch4 MaxPool2d(3, 1, pad 1, ceil) -> 1x1. Every branch ends in a conv that writes its channel slice of
 * the block output directly (no concatenation copy).
 *
 * torchvision differences handled here:
 *   - `aux1.*` / `aux2.*` (auxiliary classifiers, used only in training) are skipped when loading;
 *   - `transformInput`: torchvision's pretrained GoogLeNet (`weights=GoogLeNet_Weights.IMAGENET1K_V1`) sets
 *     transform_input=True, re-normalising ImageNet-normalised input to the [-1, 1] scaling the original
 *     weights were ported with: x_c * (std_c / 0.5) + (mean_c - 0.5) / 0.5. Pass `transformInput: true`
 *     with those weights (feed the usual ImageNet-normalised input). Default false, as
 *     `torchvision.models.googlenet(weights=None)`.
 */
import { optionKeys } from '../options.js';
import { Act } from '../runtime/activation.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Linear } from '../nn/layers/linear.js';
import { MaxPool2d, AdaptiveAvgPool2d } from '../nn/layers/pool.js';
import { BatchNorm2d } from '../nn/layers/norm.js';
import { Dropout, Flatten } from '../nn/layers/misc.js';
import { Sequential } from '../nn/layers/container.js';
import { Module } from '../nn/module.js';
import { PackedBlock } from '../graph/packed.js';
import { at, type GraphBuilder, type Value } from '../graph/graph.js';
import { ARCH_STATS, ZooModel, buildZoo, type ZooModelOptions, type ZooOptions } from './common.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../image/preprocess.js';

/** Conv (no bias) + BatchNorm2d(eps 1e-3) + ReLU, fused into one conv. */
export class BasicConv2d extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(inChannels: number, outChannels: number, kernelSize: number, opts: { stride?: number; padding?: number } = {}) {
    super();
    this.conv = this.child('conv', new Conv2d(inChannels, outChannels, kernelSize, { ...opts, bias: false }));
    this.bn = this.child('bn', new BatchNorm2d(outChannels, { eps: 0.001 }));
  }
  get outChannels(): number {
    return this.conv.outChannels;
  }
  build(g: GraphBuilder, x: Value, into?: { value: Value; channelOffset: number }): Value {
    return this.conv.build(g, x, { bn: this.bn, act: Act.Relu, into });
  }
}

/** [in, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, poolProj] per block, torchvision's numbers. */
export const INCEPTION_ROWS = {
  inception3a: [192, 64, 96, 128, 16, 32, 32],
  inception3b: [256, 128, 128, 192, 32, 96, 64],
  inception4a: [480, 192, 96, 208, 16, 48, 64],
  inception4b: [512, 160, 112, 224, 24, 64, 64],
  inception4c: [512, 128, 128, 256, 24, 64, 64],
  inception4d: [512, 112, 144, 288, 32, 64, 64],
  inception4e: [528, 256, 160, 320, 32, 128, 128],
  inception5a: [832, 256, 160, 320, 32, 128, 128],
  inception5b: [832, 384, 192, 384, 48, 128, 128],
} as const;
type InceptionName = keyof typeof INCEPTION_ROWS;

export class Inception extends Module {
  readonly branch1: BasicConv2d;
  readonly branch2: Sequential;
  readonly branch3: Sequential;
  readonly branch4: Sequential;
  readonly outChannels: number;
  constructor(row: readonly number[]) {
    super();
    const [inC, c1, c3r, c3, c5r, c5, pp] = row;
    this.branch1 = this.child('branch1', new BasicConv2d(inC, c1, 1));
    this.branch2 = this.child('branch2', new Sequential(new BasicConv2d(inC, c3r, 1), new BasicConv2d(c3r, c3, 3, { padding: 1 })));
    this.branch3 = this.child('branch3', new Sequential(new BasicConv2d(inC, c5r, 1), new BasicConv2d(c5r, c5, 3, { padding: 1 })));
    this.branch4 = this.child('branch4', new Sequential(new MaxPool2d(3, { stride: 1, padding: 1, ceilMode: true }), new BasicConv2d(inC, pp, 1)));
    this.outChannels = c1 + c3 + c5 + pp;
  }
  build(g: GraphBuilder, x: Value): Value {
    const [n, , h, w] = x.shape;
    const out = g.value([n, this.outChannels, h, w]);
    let off = 0;
    const last = (b: BasicConv2d, v: Value) => {
      b.build(g, v, { value: out, channelOffset: off });
      off += b.outChannels;
    };
    last(this.branch1, x);
    for (const br of [this.branch2, this.branch3, this.branch4]) {
      const head = br.at(0);
      last(br.at(1) as BasicConv2d, head.build(g, x));
    }
    return out;
  }
}

/** What GoogLeNet's constructor takes: the zoo's model options and torchvision's transform_input. */
export interface GoogLeNetModelOptions extends ZooModelOptions {
  /** torchvision's transform_input (see the file comment): true with torchvision's pretrained weights. */
  transformInput?: boolean;
}

const GOOGLENET_OPTION_KEYS = optionKeys<GoogLeNetModelOptions>({ numClasses: 1, includeTop: 1, pooling: 1, transformInput: 1 });

export interface GoogLeNetOptions extends ZooOptions, GoogLeNetModelOptions {}

export class GoogLeNet extends ZooModel {
  readonly transformInput: boolean;
  readonly conv1: BasicConv2d;
  readonly maxpool1: MaxPool2d;
  readonly conv2: BasicConv2d;
  readonly conv3: BasicConv2d;
  readonly maxpool2: MaxPool2d;
  readonly inception3a: Inception;
  readonly inception3b: Inception;
  readonly maxpool3: MaxPool2d;
  readonly inception4a: Inception;
  readonly inception4b: Inception;
  readonly inception4c: Inception;
  readonly inception4d: Inception;
  readonly inception4e: Inception;
  readonly maxpool4: MaxPool2d;
  readonly inception5a: Inception;
  readonly inception5b: Inception;
  readonly avgpool?: AdaptiveAvgPool2d;
  readonly dropout?: Dropout;
  readonly fc?: Linear;
  private readonly flat = new Flatten();
  private readonly transform = new PackedBlock();

  constructor(opts: GoogLeNetModelOptions = {}) {
    super('googlenet', ARCH_STATS.googlenet, opts, GOOGLENET_OPTION_KEYS);
    this.transformInput = opts.transformInput ?? false;
    const inc = (k: InceptionName) => this.child(k, new Inception(INCEPTION_ROWS[k]));
    const pool = (k: string, size: number): MaxPool2d => this.child(k, new MaxPool2d(size, { stride: 2, ceilMode: true }));
    this.conv1 = this.child('conv1', new BasicConv2d(3, 64, 7, { stride: 2, padding: 3 }));
    this.maxpool1 = pool('maxpool1', 3);
    this.conv2 = this.child('conv2', new BasicConv2d(64, 64, 1));
    this.conv3 = this.child('conv3', new BasicConv2d(64, 192, 3, { padding: 1 }));
    this.maxpool2 = pool('maxpool2', 3);
    this.inception3a = inc('inception3a');
    this.inception3b = inc('inception3b');
    this.maxpool3 = pool('maxpool3', 3);
    this.inception4a = inc('inception4a');
    this.inception4b = inc('inception4b');
    this.inception4c = inc('inception4c');
    this.inception4d = inc('inception4d');
    this.inception4e = inc('inception4e');
    this.maxpool4 = pool('maxpool4', 2);
    this.inception5a = inc('inception5a');
    this.inception5b = inc('inception5b');
    if (this.includeTop) {
      this.avgpool = this.child('avgpool', new AdaptiveAvgPool2d(1));
      this.dropout = this.child('dropout', new Dropout(0.2));
      this.fc = this.child('fc', new Linear(1024, this.numClasses));
    }
  }

  /** Auxiliary classifiers of torchvision's state dict: not part of inference, skipped. */
  protected override optionalKey(key: string): boolean {
    return /^aux[12]\./.test(key) || super.optionalKey(key);
  }

  /** x_c * (std_c / 0.5) + (mean_c - 0.5) / 0.5 per channel, in float32 as torch computes it. */
  private buildTransform(g: GraphBuilder, x: Value): Value {
    const rt = g.rt;
    const ptr = this.transform.ensure(rt, 'v1', 32, (p) => {
      rt.arena.write(p, new Float32Array(IMAGENET_STD.map((s) => s / 0.5)));
      rt.arena.write(p + 16, new Float32Array(IMAGENET_MEAN.map((m) => (m - 0.5) / 0.5)));
    });
    const [n, c, h, w] = x.shape;
    const y = g.value(x.shape);
    g.op(`${this.name}.transform_input`, [x], (p) => rt.k.scale_shift(at(p, y), at(p, x), ptr, ptr + 16, n * h * w, c, Act.None.code, 0));
    return y;
  }

  build(g: GraphBuilder, x: Value): Value {
    if (this.transformInput) x = this.buildTransform(g, x);
    x = this.maxpool1.build(g, this.conv1.build(g, x));
    x = this.maxpool2.build(g, this.conv3.build(g, this.conv2.build(g, x)));
    x = this.maxpool3.build(g, this.inception3b.build(g, this.inception3a.build(g, x)));
    for (const b of [this.inception4a, this.inception4b, this.inception4c, this.inception4d, this.inception4e]) x = b.build(g, x);
    x = this.inception5b.build(g, this.inception5a.build(g, this.maxpool4.build(g, x)));
    if (!this.fc) return this.headless(g, x);
    x = this.dropout!.build(g, this.flat.build(g, this.avgpool!.build(g, x)));
    return this.fc.build(g, x);
  }

  override releaseWeights(): void {
    this.transform.release();
    super.releaseWeights();
  }
}

/** `await wasmzoo.googlenet({ weights, transformInput })`: torchvision's GoogLeNet, 6.6M parameters. */
export function googlenet(opts: GoogLeNetOptions = {}): Promise<GoogLeNet> {
  return buildZoo('googlenet', opts, (o) => new GoogLeNet(o), GOOGLENET_OPTION_KEYS);
}

