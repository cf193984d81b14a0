/**
 * Autoencoders for reconstruction and anomaly detection (tools/gen_ae_goldens.py has the PyTorch modules
 * these match, state_dict keys included).
 *
 * Dense (default), e.g. layers [784, 256, 64]:
 *   encoder  Sequential(Linear(784, 256), act, Linear(256, 64))          the code is linear (no activation)
 *   decoder  Sequential(Linear(64, 256), act, Linear(256, 784), outAct)  mirrored
 *   keys     encoder.0.*, encoder.2.*, decoder.0.*, decoder.2.*
 *
 * Convolutional ({ conv: true }), input C x H x W with H, W divisible by 4 (default 1x28x28):
 *   encoder  Conv2d(C, c1, 3, s2, p1), act, Conv2d(c1, c2, 3, s2, p1), act, Flatten, Linear(c2*H/4*W/4, code)
 *   decoder  Linear(code, c2*H/4*W/4), act, Unflatten(1, (c2, H/4, W/4)), Upsample(2), Conv2d(c2, c1, 3, p1),
 *            act, Upsample(2), Conv2d(c1, C, 3, p1), outAct
 *   NOTE: there is no ConvTranspose2d kernel. Nearest-neighbour upsampling + a 3x3 conv is the usual
 *   checkerboard-free alternative (Odena et al. 2016), and it needs no new kernel (nn.Upsample,
 *   src/nn/layers/upsample.ts).
 *
 * Shapes: the output has the input's shape, so an autoencoder trains with `model.fit(x, x, { loss: 'mse' })`.
 * Input may be images [N, C, H, W] or flat rows [N, C*H*W] (PyTorch's x.view(N, -1) order, C, H, W); the
 * dense model flattens images on the way in and restores the shape on the way out, the conv model does the
 * reverse for flat rows. Defaults: ReLU hidden activations and a sigmoid output, for pixels in [0, 1]
 * trained with MSE (the loss anomalyScore reports). `outputActivation: 'none'` gives logits (train with
 * 'bceWithLogits'; reconstruct and anomalyScore then see logits, so apply your own sigmoid).
 *
 * Anomaly detection: anomalyScore(x) is the per-sample mean squared reconstruction error over all
 * C*H*W values; fitThreshold(x, { percentile }) sets `threshold` to that percentile (linear interpolation,
 * numpy's default) of the scores of x (normal data); isAnomaly(x) is score > threshold.
 */
import { buildModel, type BuildOptions, type ZooWeightSource } from './build.js';
import { pixelModelMeta, type BaseModelMeta, type ImagePreprocessing } from './meta.js';
import { WasmzooError } from '../errors.js';
import { checkOptions, optionKeys } from '../options.js';
import { at, shapeError, type GraphBuilder, type Value } from '../graph/graph.js';
import { BATCH_OPTION_KEYS, Module } from '../nn/module.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Linear } from '../nn/layers/linear.js';
import { Flatten } from '../nn/layers/misc.js';
import { ReLU, Sigmoid, Tanh } from '../nn/layers/activation.js';
import { Sequential } from '../nn/layers/container.js';
import { Unflatten, unflattenValue } from '../nn/layers/unflatten.js';
import { Upsample } from '../nn/layers/upsample.js';
import { Tensor, numel, tensorArg, type Shape } from '../tensor.js';

export type AEActivation = 'relu' | 'tanh' | 'sigmoid';

export interface AutoencoderOptions {
  /** Dense sizes from the input to the code, e.g. [784, 256, 64] (default); the decoder mirrors them. */
  layers?: number[];
  /** Hidden activation (default 'relu'). The code layer has none. */
  activation?: AEActivation;
  /** Last decoder activation (default 'sigmoid': pixels in [0, 1]); 'none' gives logits. */
  outputActivation?: AEActivation | 'none';
  /** Convolutional variant (see the file header). */
  conv?: boolean;
  /** Conv variant: input [C, H, W] (default [1, 28, 28]). */
  inputShape?: [number, number, number];
  /** Conv variant: channels of the two stride-2 convs (default [16, 32]). */
  channels?: [number, number];
  /** Conv variant: code size (default 32). */
  code?: number;
}

const FIT_THRESHOLD_OPTION_KEYS = optionKeys<{ percentile?: number; batchSize?: number }>({ percentile: 1, batchSize: 1 });
const AUTOENCODER_OPTION_KEYS = optionKeys<AutoencoderOptions>({ layers: 1, activation: 1, outputActivation: 1, conv: 1, inputShape: 1, channels: 1, code: 1 });

function activationModule(a: AEActivation): Module {
  if (a === 'relu') return new ReLU();
  if (a === 'tanh') return new Tanh();
  if (a === 'sigmoid') return new Sigmoid();
  throw new WasmzooError('E_ARGUMENT', `autoencoder: activation must be 'relu', 'tanh' or 'sigmoid', got ${JSON.stringify(a)}`);
}

export class Autoencoder extends Module {
  readonly encoder: Sequential;
  readonly decoder: Sequential;
  readonly conv: boolean;
  /** Dense: [inputSize, ..., codeSize]. Conv: [C*H*W, codeSize]. */
  readonly layers: readonly number[];
  /** Conv variant's image shape [C, H, W]. */
  readonly inputShape?: readonly [number, number, number];
  /** Set by fitThreshold (or by hand); used by isAnomaly. */
  threshold: number | undefined;
  private readonly flatten = new Flatten();

  constructor(opts: AutoencoderOptions = {}) {
    super('autoencoder');
    opts = checkOptions('autoencoder', opts, AUTOENCODER_OPTION_KEYS);
    const act = opts.activation ?? 'relu';
    const outAct = opts.outputActivation ?? 'sigmoid';
    activationModule(act);
    if (outAct !== 'none') activationModule(outAct);
    this.conv = opts.conv ?? false;
    const tail = outAct === 'none' ? [] : [activationModule(outAct)];
    if (!this.conv) {
      const sizes = opts.layers ?? [784, 256, 64];
      if (sizes.length < 2 || !sizes.every((d) => Number.isInteger(d) && d > 0)) {
        throw new WasmzooError('E_ARGUMENT', `autoencoder: layers must be at least two positive integers (input ... code), got ${JSON.stringify(sizes)}`);
      }
      this.layers = [...sizes];
      const chain = (dims: number[], last: Module[]) => {
        const mods: Module[] = [];
        for (let i = 0; i + 1 < dims.length; i++) {
          mods.push(new Linear(dims[i], dims[i + 1]));
          if (i + 2 < dims.length) mods.push(activationModule(act));
        }
        return new Sequential(...mods, ...last);
      };
      this.encoder = this.child('encoder', chain(sizes, []));
      this.decoder = this.child('decoder', chain([...sizes].reverse(), tail));
    } else {
      const [C, H, W] = opts.inputShape ?? [1, 28, 28];
      const [c1, c2] = opts.channels ?? [16, 32];
      const code = opts.code ?? 32;
      if (![C, H, W, c1, c2, code].every((d) => Number.isInteger(d) && d > 0) || H % 4 || W % 4) {
        throw new WasmzooError('E_ARGUMENT', `autoencoder: conv needs positive integer sizes and H, W divisible by 4, got inputShape ${JSON.stringify([C, H, W])}, channels ${JSON.stringify([c1, c2])}, code ${code}`);
      }
      this.inputShape = [C, H, W];
      const h = H / 4, w = W / 4;
      this.layers = [C * H * W, code];
      this.encoder = this.child('encoder', new Sequential(
        new Conv2d(C, c1, 3, { stride: 2, padding: 1 }), activationModule(act),
        new Conv2d(c1, c2, 3, { stride: 2, padding: 1 }), activationModule(act),
        new Flatten(), new Linear(c2 * h * w, code)));
      this.decoder = this.child('decoder', new Sequential(
        new Linear(code, c2 * h * w), activationModule(act), new Unflatten([c2, h, w]),
        new Upsample(2), new Conv2d(c2, c1, 3, { padding: 1 }), activationModule(act),
        new Upsample(2), new Conv2d(c1, C, 3, { padding: 1 }), ...tail));
    }
    this.flatten.name = `${this.name}.flatten`;
  }

  /** Values per sample (C*H*W). */
  get inputSize(): number {
    return this.layers[0];
  }

  get codeSize(): number {
    return this.layers[this.layers.length - 1];
  }

  /** 28x28 grey input (784 values, dense or conv): Fashion-MNIST pixels in [0, 1], as the shipped weights; otherwise no fixed recipe. */
  get meta(): BaseModelMeta<ImagePreprocessing> {
    return pixelModelMeta(this, this.inputShape ?? [this.inputSize], 'Hinton & Salakhutdinov 2006, doi:10.1126/science.1127647 (MLP / conv autoencoder, tools/gen_ae_goldens.py)');
  }

  protected override checkInput(s: Shape): void {
    const ok = (s.length === 2 && s[1] === this.inputSize) || (s.length === 4 && numel(s.slice(1)) === this.inputSize &&
      (!this.inputShape || s.slice(1).every((d, i) => d === this.inputShape![i])));
    if (!ok) throw shapeError(this.name, this.inputShape ? `[N, ${this.inputShape.join(', ')}] or [N, ${this.inputSize}]` : `[N, ${this.inputSize}] or images [N, C, H, W] with C*H*W = ${this.inputSize}`, s);
  }

  build(g: GraphBuilder, x: Value): Value {
    this.checkInput(x.shape);
    if (!this.conv) {
      const flat = x.shape.length === 4 ? this.flatten.build(g, x) : x;
      const y = this.decoder.build(g, this.encoder.build(g, flat));
      return x.shape.length === 4 ? unflattenValue(g, `${this.name}.unflatten`, y, x.shape.slice(1)) : y;
    }
    const img = x.shape.length === 2 ? unflattenValue(g, `${this.name}.unflatten`, x, this.inputShape!) : x;
    const y = this.decoder.build(g, this.encoder.build(g, img));
    return x.shape.length === 2 ? this.flatten.build(g, y) : y;
  }

  /** Input as the encoder takes it: flat rows (dense) or images (conv). */
  private encoderInput(x: Tensor): Tensor {
    this.checkInput(x.shape);
    const n = x.shape[0];
    if (!this.conv) return x.shape.length === 2 ? x : x.reshape([n, this.inputSize]);
    return x.shape.length === 4 ? x : x.reshape([n, ...this.inputShape!]);
  }

  /** Codes [N, codeSize] of x ([N, C, H, W] or [N, C*H*W]). */
  encode(x: Tensor): Tensor {
    return this.encoder.forward(this.encoderInput(tensorArg(`${this.name}.encode`, x)));
  }

  /** Decoder output for codes [N, codeSize]: [N, inputSize] (dense) or [N, C, H, W] (conv). */
  decode(z: Tensor): Tensor {
    z = tensorArg(`${this.name}.decode`, z, 'z');
    if (z.shape.length !== 2 || z.shape[1] !== this.codeSize) throw shapeError(`${this.name}.decode`, `[N, ${this.codeSize}]`, z.shape);
    return this.decoder.forward(z);
  }

  /** decode(encode(x)) in the shape of x, in batches. */
  reconstruct(x: Tensor, opts: { batchSize?: number } = {}): Tensor {
    x = tensorArg(`${this.name}.reconstruct`, x);
    this.checkInput(x.shape);
    return this.predict(x, checkOptions(`${this.name}.reconstruct`, opts, BATCH_OPTION_KEYS));
  }

  /** Per-sample mean squared reconstruction error [N]. */
  anomalyScore(x: Tensor, opts: { batchSize?: number } = {}): Tensor {
    x = tensorArg(`${this.name}.anomalyScore`, x);
    const r = this.reconstruct(x, checkOptions(`${this.name}.anomalyScore`, opts, BATCH_OPTION_KEYS));
    const n = x.shape[0], d = this.inputSize;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = i * d; j < (i + 1) * d; j++) {
        const e = r.data[j] - x.data[j];
        s += e * e;
      }
      out[i] = s / d;
    }
    return new Tensor(out, [n]);
  }

  /**
   * Set `threshold` to the given percentile (default 99) of the anomaly scores of x, normal data such as
   * the training set (linear interpolation between order statistics, as numpy.percentile). Returns it.
   */
  fitThreshold(x: Tensor, opts: { percentile?: number; batchSize?: number } = {}): number {
    opts = checkOptions(`${this.name}.fitThreshold`, opts, FIT_THRESHOLD_OPTION_KEYS);
    const q = opts.percentile ?? 99;
    if (!(q >= 0 && q <= 100)) throw new WasmzooError('E_ARGUMENT', `${this.name}.fitThreshold: percentile must be in [0, 100], got ${q}`);
    const s = Float64Array.from(this.anomalyScore(x, { batchSize: opts.batchSize }).data).sort();
    const pos = (q / 100) * (s.length - 1);
    const lo = Math.floor(pos), hi = Math.min(lo + 1, s.length - 1);
    this.threshold = s[lo] + (s[hi] - s[lo]) * (pos - lo);
    return this.threshold;
  }

  /** score > threshold per sample (fitThreshold first). */
  isAnomaly(x: Tensor, opts: { batchSize?: number } = {}): boolean[] {
    const t = this.threshold;
    if (t === undefined) throw new WasmzooError('E_ARGUMENT', `${this.name}.isAnomaly: no threshold: call fitThreshold(normalData) first or set model.threshold`);
    return Array.from(this.anomalyScore(x, checkOptions(`${this.name}.isAnomaly`, opts, BATCH_OPTION_KEYS)).data, (v) => v > t);
  }
}

/** Options of `wasmzoo.autoencoder`: the architecture, `weights` ('fashion-mnist' or any source), `download`, `strict`, `init`. */
export type AutoencoderBuildOptions = AutoencoderOptions & BuildOptions & { weights?: ZooWeightSource | 'fashion-mnist' };

/** Build an autoencoder (initialising the runtime if needed) and load `weights` if given (src/models/build.ts). */
export function autoencoder(opts: AutoencoderBuildOptions = {}): Promise<Autoencoder> {
  return buildModel('autoencoder', opts, AUTOENCODER_OPTION_KEYS, (o) => new Autoencoder(o), (model, { metadata, shipped }) => {
    // the shipped file carries the anomaly threshold fitted on its training data (99th percentile)
    const t = shipped ? Number(metadata?.threshold_p99) : NaN;
    if (Number.isFinite(t)) model.threshold = t;
  });
}
