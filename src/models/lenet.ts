/**
 * LeNet-5 (LeCun et al. 1998) in its common PyTorch form:
 *
 *   input 1x32x32 (28x28 accepted: conv1 then pads by 2, as is usual for MNIST-sized input)
 *   conv1  Conv2d(1, 6, 5)   -> act -> pool 2x2
 *   conv2  Conv2d(6, 16, 5)  -> act -> pool 2x2
 *   flatten (16*5*5 = 400)
 *   fc1    Linear(400, 120)  -> act
 *   fc2    Linear(120, 84)   -> act
 *   fc3    Linear(84, 10)    (logits)
 *
 * Defaults: ReLU and max pooling. `{ activation: 'tanh', pooling: 'avg' }` gives the 1998 form (without
 * the paper's trainable subsampling coefficients and sparse C3 connection table, as PyTorch ports do).
 * state_dict keys: conv1.*, conv2.*, fc1.*, fc2.*, fc3.*
 */
import { WasmzooError } from '../errors.js';
import { checkOptions, optionKeys } from '../options.js';
import { Act } from '../runtime/activation.js';
import { buildModel, type BuildOptions, type ZooWeightSource } from './build.js';
import { FASHION_MNIST_PREPROCESSING, modelMeta, type BaseModelMeta, type ImagePreprocessing } from './meta.js';
import { type GraphBuilder, type Value, shapeError } from '../graph/graph.js';
import { Module } from '../nn/module.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Linear } from '../nn/layers/linear.js';
import { AvgPool2d, MaxPool2d } from '../nn/layers/pool.js';
import { Flatten } from '../nn/layers/misc.js';
import type { Shape } from '../tensor.js';

export interface LeNet5Options {
  /**
   * 'fashion-mnist' (the shipped weights), or safetensors bytes, a state dict with keys conv1.*, conv2.*,
   * fc1.*, fc2.*, fc3.*, a Response, Blob, URL or file path (see BuildOptions for `download`, `strict`, `init`).
   */
  weights?: ZooWeightSource | 'fashion-mnist';
  activation?: 'relu' | 'tanh';
  pooling?: 'max' | 'avg';
  numClasses?: number;
  inChannels?: number;
}

/** LeNet5's constructor options (the builder adds BuildOptions'). */
export const LENET5_OPTION_KEYS = optionKeys<Omit<LeNet5Options, 'weights'>>({ activation: 1, pooling: 1, numClasses: 1, inChannels: 1 });

export class LeNet5 extends Module {
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly fc3: Linear;
  readonly activation: 'relu' | 'tanh';
  readonly pooling: 'max' | 'avg';
  private readonly act: Act;
  private readonly pool1: MaxPool2d | AvgPool2d;
  private readonly pool2: MaxPool2d | AvgPool2d;
  private readonly flatten = new Flatten();

  constructor(opts: Omit<LeNet5Options, 'weights'> = {}) {
    super('lenet5');
    opts = checkOptions('lenet5', opts, LENET5_OPTION_KEYS);
    this.activation = opts.activation ?? 'relu';
    this.pooling = opts.pooling ?? 'max';
    if (this.activation !== 'relu' && this.activation !== 'tanh') {
      throw new WasmzooError('E_ARGUMENT', `lenet5: activation must be 'relu' or 'tanh', got ${JSON.stringify(this.activation)}`);
    }
    if (this.pooling !== 'max' && this.pooling !== 'avg') {
      throw new WasmzooError('E_ARGUMENT', `lenet5: pooling must be 'max' or 'avg', got ${JSON.stringify(this.pooling)}`);
    }
    this.act = this.activation === 'relu' ? Act.Relu : Act.Tanh;
    const inChannels = opts.inChannels ?? 1;
    this.conv1 = this.child('conv1', new Conv2d(inChannels, 6, 5));
    this.conv2 = this.child('conv2', new Conv2d(6, 16, 5));
    this.fc1 = this.child('fc1', new Linear(16 * 5 * 5, 120));
    this.fc2 = this.child('fc2', new Linear(120, 84));
    this.fc3 = this.child('fc3', new Linear(84, opts.numClasses ?? 10));
    const Pool = this.pooling === 'max' ? MaxPool2d : AvgPool2d;
    this.pool1 = new Pool(2);
    this.pool2 = new Pool(2);
    this.pool1.name = 'lenet5.pool1';
    this.pool2.name = 'lenet5.pool2';
  }

  protected override checkInput(s: Shape): void {
    const c = this.conv1.inChannels;
    if (s.length !== 4 || s[1] !== c || !((s[2] === 32 && s[3] === 32) || (s[2] === 28 && s[3] === 28))) {
      throw shapeError(this.name, `[N, ${c}, 32, 32] or [N, ${c}, 28, 28]`, s);
    }
  }

  /**
   * With one input channel: the Fashion-MNIST classifier (28x28 grey, the shipped weights' normalisation,
   * fashion-mnist labels for 10 classes); otherwise no fixed preprocessing.
   */
  get meta(): BaseModelMeta<ImagePreprocessing> {
    const c = this.conv1.inChannels;
    return modelMeta(this, () => ({
      inputSize: [c, 28, 28],
      preprocessing: c === 1 ? FASHION_MNIST_PREPROCESSING : null,
      categories: c === 1 && this.fc3.outFeatures === 10 ? 'fashion-mnist' : null,
      reference: 'LeCun et al. 1998, doi:10.1109/5.726791 (common PyTorch form, tools/lenet.py)',
    }));
  }

  build(g: GraphBuilder, x: Value): Value {
    const pad = x.shape[2] === 28 ? 2 : 0;
    x = this.conv1.build(g, x, { act: this.act, padding: [pad, pad] });
    x = this.pool1.build(g, x);
    x = this.conv2.build(g, x, { act: this.act });
    x = this.pool2.build(g, x);
    x = this.flatten.build(g, x);
    x = this.fc1.build(g, x, { act: this.act });
    x = this.fc2.build(g, x, { act: this.act });
    return this.fc3.build(g, x);
  }
}

/** Build LeNet-5 (initialising the runtime if needed) and load `weights` if given (src/models/build.ts). */
export function lenet5(opts: LeNet5Options & BuildOptions = {}): Promise<LeNet5> {
  return buildModel('lenet5', opts, LENET5_OPTION_KEYS, (o) => new LeNet5(o));
}
