/**
 * Variational autoencoder (Kingma & Welling 2014), as pytorch/examples' vae/main.py:
 *
 *   fc1   Linear(inputSize, hidden)  -> ReLU                  h
 *   fc21  Linear(hidden, latent)                              mu
 *   fc22  Linear(hidden, latent)                              logvar
 *         z = mu + exp(0.5 * logvar) * eps,  eps ~ N(0, I)    (reparameterisation; seeded, see below)
 *   fc3   Linear(latent, hidden)     -> ReLU
 *   fc4   Linear(hidden, inputSize)                           logits; sigmoid gives pixel probabilities
 *
 * state_dict keys fc1.*, fc21.*, fc22.*, fc3.*, fc4.* (defaults 784-400-20 as the example).
 *
 * Training (fit / trainStep; the Trainer calls buildTrainingLoss): loss = negative ELBO per sample,
 * averaged over the batch:
 *   loss = (1/B) * sum_b [ sum_pixels BCEWithLogits(logits_b, target_b)
 *                          - 0.5 * sum_latent (1 + logvar_b - mu_b^2 - exp(logvar_b)) ]
 * NOTE: pytorch/examples sums over the batch too (reduction='sum'); this is that divided by B, so the
 * printed loss is nats per image whatever the batch size (Adam's steps are nearly scale-free, so training
 * behaves the same; with SGD scale the learning rate by B to match). The target is fit's y (x itself for
 * a plain VAE; a clean image for a denoising one), values in [0, 1].
 *
 * eps: vae_normal (assembly/random.ts, Box-Muller over dropout's counter hash), a pure function of (seed, i),
 * the same bits in every variant. A training step draws eps[i] for the batch's B x latent values with
 * seed_lo = trainSeed ^ EPS_SALT, seed_hi = step (the trainer's 1-based step count, fit's `seed` option as
 * trainSeed); sample(n, { seed }) uses seed_lo = seed, seed_hi = 0xFFFFFFFF; evaluate uses seed_lo = seed,
 * seed_hi = 0x80000000 + first row of the batch.
 *
 * Inference: forward(x) / reconstruct(x) decode the posterior mean (z = mu; deterministic, unlike
 * PyTorch's forward, which samples) and return probabilities in x's shape. Input is [N, inputSize] or
 * images [N, C, H, W] with C*H*W = inputSize (flattened in C, H, W order as x.view(-1, 784)).
 */
import { PlanCache } from '../graph/plancache.js';
import { buildModel, type BuildOptions, type ZooWeightSource } from './build.js';
import { pixelModelMeta, type BaseModelMeta, type ImagePreprocessing } from './meta.js';
import { WasmzooError } from '../errors.js';
import { checkOptions, optionKeys } from '../options.js';
import { runtime } from '../runtime/runtime.js';
import { Act } from '../runtime/activation.js';
import { GraphBuilder, at, shapeError, type Value } from '../graph/graph.js';
import { BATCH_OPTION_KEYS, Module } from '../nn/module.js';
import { Linear } from '../nn/layers/linear.js';
import { Flatten } from '../nn/layers/misc.js';
import { IOPlan } from '../graph/ioplan.js';
import { Tensor, numel, tensorArg, type Shape } from '../tensor.js';
import type { TrainGraph } from '../graph/tape.js';
import type { FitOptions, History, LossName, TrainOptions, TrainingLossModel } from '../graph/training.js';
import { unflattenValue } from '../nn/layers/unflatten.js';

export interface VAEOptions {
  inputSize?: number;
  hidden?: number;
  latent?: number;
}

const VAE_EVALUATE_OPTION_KEYS = optionKeys<{ loss?: LossName; batchSize?: number; seed?: number }>({ loss: 1, batchSize: 1, seed: 1 });
const SEED_OPTION_KEYS = optionKeys<{ seed?: number }>({ seed: 1 });
const VAE_OPTION_KEYS = optionKeys<VAEOptions>({ inputSize: 1, hidden: 1, latent: 1 });

/** Mixed into the training seed so eps streams differ from dropout masks drawn with the same seed. */
export const EPS_SALT = 0x7ae5eed5;
const SAMPLE_HI = 0xffffffff;
const EVAL_HI = 0x80000000;

export class VAE extends Module implements TrainingLossModel {
  readonly fc1: Linear;
  readonly fc21: Linear;
  readonly fc22: Linear;
  readonly fc3: Linear;
  readonly fc4: Linear;
  private readonly flatten = new Flatten();
  private readonly ioPlans = new PlanCache<IOPlan>(this, (p) => p.dispose());
  /** Read by the planned ops of sample() and evaluate() at run time. */
  private seedLo = 0;
  private seedHi = 0;
  private sums = { rec: 0, kl: 0 };

  constructor(opts: VAEOptions = {}) {
    super('vae');
    opts = checkOptions('vae', opts, VAE_OPTION_KEYS);
    const D = opts.inputSize ?? 784, H = opts.hidden ?? 400, L = opts.latent ?? 20;
    for (const [n, v] of [['inputSize', D], ['hidden', H], ['latent', L]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new WasmzooError('E_ARGUMENT', `vae: ${n} must be a positive integer, got ${v}`);
    }
    this.fc1 = this.child('fc1', new Linear(D, H));
    this.fc21 = this.child('fc21', new Linear(H, L));
    this.fc22 = this.child('fc22', new Linear(H, L));
    this.fc3 = this.child('fc3', new Linear(L, H));
    this.fc4 = this.child('fc4', new Linear(H, D));
    this.flatten.name = `${this.name}.flatten`;
  }

  get inputSize(): number {
    return this.fc1.inFeatures;
  }

  get latent(): number {
    return this.fc21.outFeatures;
  }

  /** 784 inputs: Fashion-MNIST pixels in [0, 1], as the shipped weights (sample() returns the same); otherwise no fixed recipe. */
  get meta(): BaseModelMeta<ImagePreprocessing> {
    return pixelModelMeta(this, [this.inputSize], 'Kingma & Welling 2014, arXiv:1312.6114 (pytorch/examples vae/main.py)');
  }

  protected override checkInput(s: Shape): void {
    if (!((s.length === 2 && s[1] === this.inputSize) || (s.length === 4 && numel(s.slice(1)) === this.inputSize))) {
      throw shapeError(this.name, `[N, ${this.inputSize}] or images [N, C, H, W] with C*H*W = ${this.inputSize}`, s);
    }
  }

  private flat(g: GraphBuilder, x: Value): Value {
    this.checkInput(x.shape);
    return x.shape.length === 4 ? this.flatten.build(g, x) : x;
  }

  /** Inference graph: probabilities of decode(mu) in x's shape. */
  build(g: GraphBuilder, x: Value): Value {
    const h = this.fc1.build(g, this.flat(g, x), { act: Act.Relu });
    const y = this.fc4.build(g, this.fc3.build(g, this.fc21.build(g, h), { act: Act.Relu }), { act: Act.Sigmoid });
    return x.shape.length === 4 ? unflattenValue(g, `${this.name}.unflatten`, y, x.shape.slice(1)) : y;
  }

  /** Training objective (see the header): forward with sampled z, BCE + KL, gradients seeded. Returns the logits. */
  buildTrainingLoss(g: TrainGraph, x: Value, target: Value, holder: { value: number }): Value {
    const xf = this.flat(g, x);
    const B = xf.shape[0], D = this.inputSize, L = this.latent, n = B * L;
    if (numel(target.shape) !== B * D || target.shape[0] !== B) {
      throw new WasmzooError('E_SHAPE', `${this.name}: the target must have the input's shape (the images to reconstruct), got [${target.shape.join(', ')}] for input [${x.shape.join(', ')}]`);
    }
    const t = target.shape.length === 4 ? this.flatten.build(g, target) : target;
    const k = g.rt.k;
    const h = this.fc1.build(g, xf, { act: Act.Relu });
    const mu = this.fc21.build(g, h);
    const logvar = this.fc22.build(g, h);
    const eps = g.value([B, L]);
    const z = g.value([B, L]);
    const st = g.state;
    const parts = { rec: 0, kl: 0 };
    g.op(`${this.name}.eps`, [], (p) => k.vae_normal(at(p, eps), n, (st.seed ^ EPS_SALT) | 0, st.step | 0));
    g.op(`${this.name}.reparam`, [mu, logvar, eps], (p) => k.vae_reparam(at(p, z), at(p, mu), at(p, logvar), at(p, eps), n));
    g.onBackward(() => {
      const dz = g.grad(z);
      if (!dz) return;
      const dmu = g.value([B, L]), dlogvar = g.value([B, L]);
      g.op(`${this.name}.reparam_backward+kl`, [dz, mu, logvar, eps], (p) => {
        k.vae_reparam_backward(at(p, dmu), at(p, dlogvar), at(p, dz), at(p, logvar), at(p, eps), n);
        parts.kl = k.kl_normal(at(p, dmu), at(p, dlogvar), at(p, mu), at(p, logvar), n, 1 / B);
        holder.value = parts.rec + parts.kl;
      });
      g.addGrad(mu, dmu);
      g.addGrad(logvar, dlogvar);
    });
    const logits = this.fc4.build(g, this.fc3.build(g, z, { act: Act.Relu }));
    const dlogits = g.value([B, D]);
    g.op(`${this.name}.bce`, [logits, t], (p) => {
      parts.rec = k.bce_with_logits(at(p, dlogits), at(p, logits), at(p, t), B * D, 1 / B);
    });
    g.addGrad(logits, dlogits);
    return logits;
  }

  // ---- training entry points: the objective is the ELBO whatever the loss name; 'bceWithLogits' makes
  // the trainer pass y as float pixels ----

  private lossOpts<T extends TrainOptions>(opts: T): T {
    if (opts.loss !== undefined && opts.loss !== 'bceWithLogits') {
      throw new WasmzooError('E_ARGUMENT', `${this.name}: trains on its ELBO (Bernoulli likelihood on logits + KL); loss ${JSON.stringify(opts.loss)} is not available`);
    }
    return { ...opts, loss: 'bceWithLogits' };
  }

  override trainStep(x: Tensor, y: Tensor = x, opts: TrainOptions = {}): number {
    return super.trainStep(x, y, this.lossOpts(opts));
  }

  override fit(x: Tensor, y: Tensor = x, opts: FitOptions = {}): Promise<History> {
    return super.fit(x, y, this.lossOpts(opts));
  }

  /**
   * Mean negative ELBO per sample (one-sample estimate, eps seeded: see the header) of reconstructing y
   * from x, in batches with inference semantics. `{ loss }` as the training loss, plus its two parts.
   */
  override evaluate(x: Tensor, y: Tensor = x, opts: { loss?: LossName; batchSize?: number; seed?: number } = {}): { loss: number; reconstruction: number; kl: number } {
    opts = checkOptions(`${this.name}.evaluate`, opts, VAE_EVALUATE_OPTION_KEYS);
    this.lossOpts(opts);
    const xf = this.rows(tensorArg(`${this.name}.evaluate`, x, 'x'), 'x'), yf = this.rows(tensorArg(`${this.name}.evaluate`, y, 'y'), 'y');
    const N = xf.shape[0], D = this.inputSize;
    if (yf.shape[0] !== N) throw new WasmzooError('E_SHAPE', `${this.name}.evaluate: x has ${N} rows but y has ${yf.shape[0]}`);
    const bs = opts.batchSize ?? 256;
    let rec = 0, kl = 0;
    for (let from = 0; from < N; from += bs) {
      const B = Math.min(bs, N - from);
      const io = this.plan(`elbo:${B}`, () => this.elboPlan(B));
      this.seedLo = (opts.seed ?? 0) | 0;
      this.seedHi = (EVAL_HI + from) | 0;
      io.run([xf.data.subarray(from * D, (from + B) * D), yf.data.subarray(from * D, (from + B) * D)]);
      rec += this.sums.rec;
      kl += this.sums.kl;
    }
    return { loss: (rec + kl) / N, reconstruction: rec / N, kl: kl / N };
  }

  private elboPlan(B: number) {
    return new IOPlan(runtime(), [[B, this.inputSize], [B, this.inputSize]], (g, [x, t]) => {
      const { mu, logvar } = this.buildEncoder(g, x);
      const k = g.rt.k;
      const L = this.latent, n = B * L, D = this.inputSize;
      const z = g.value([B, L]);
      g.op(`${this.name}.eps`, [], (p) => k.vae_normal(at(p, z), n, this.seedLo, this.seedHi));
      g.op(`${this.name}.reparam`, [mu, logvar, z], (p) => k.vae_reparam(at(p, z), at(p, mu), at(p, logvar), at(p, z), n));
      const logits = this.fc4.build(g, this.fc3.build(g, z, { act: Act.Relu }));
      g.op(`${this.name}.elbo`, [logits, t, mu, logvar], (p) => {
        this.sums.rec = k.bce_with_logits(0, at(p, logits), at(p, t), B * D, 1);
        this.sums.kl = k.kl_normal(0, 0, at(p, mu), at(p, logvar), n, 1);
      });
      return [logits];
    });
  }

  // ---- inference ----

  private buildEncoder(g: GraphBuilder, x: Value): { mu: Value; logvar: Value } {
    const h = this.fc1.build(g, x, { act: Act.Relu });
    return { mu: this.fc21.build(g, h), logvar: this.fc22.build(g, h) };
  }

  /** x as [N, inputSize] rows (images are flattened in C, H, W order: a reshape at the API). */
  private rows(x: Tensor, what = 'x'): Tensor {
    const s = x.shape;
    if (s.length === 2 && s[1] === this.inputSize) return x;
    if (s.length === 4 && numel(s.slice(1)) === this.inputSize) return x.reshape([s[0], this.inputSize]);
    throw shapeError(`${this.name} (${what})`, `[N, ${this.inputSize}] or images [N, C, H, W] with C*H*W = ${this.inputSize}`, s);
  }

  /** Posterior parameters of x: mu and logvar, [N, latent] each. */
  encode(x: Tensor): { mu: Tensor; logvar: Tensor } {
    const xf = this.rows(tensorArg(`${this.name}.encode`, x));
    const N = xf.shape[0];
    const io = this.plan(`enc:${N}`, () => new IOPlan(runtime(), [[N, this.inputSize]], (g, [xv]) => {
      const { mu, logvar } = this.buildEncoder(g, xv);
      return [mu, logvar];
    }));
    const [mu, logvar] = io.run([xf.data]);
    return { mu: new Tensor(mu, [N, this.latent]), logvar: new Tensor(logvar, [N, this.latent]) };
  }

  /** Pixel probabilities sigmoid(fc4(relu(fc3(z)))) for codes z [N, latent]: [N, inputSize]. */
  decode(z: Tensor): Tensor {
    z = tensorArg(`${this.name}.decode`, z, 'z');
    if (z.shape.length !== 2 || z.shape[1] !== this.latent) throw shapeError(`${this.name}.decode`, `[N, ${this.latent}]`, z.shape);
    const N = z.shape[0];
    const io = this.plan(`dec:${N}`, () => new IOPlan(runtime(), [[N, this.latent]], (g, [zv]) => [this.buildDecoder(g, zv)]));
    return new Tensor(io.run([z.data])[0], [N, this.inputSize]);
  }

  private buildDecoder(g: GraphBuilder, z: Value): Value {
    return this.fc4.build(g, this.fc3.build(g, z, { act: Act.Relu }), { act: Act.Sigmoid });
  }

  /** decode(mu(x)) in x's shape (deterministic), in batches. */
  reconstruct(x: Tensor, opts: { batchSize?: number } = {}): Tensor {
    x = tensorArg(`${this.name}.reconstruct`, x);
    this.checkInput(x.shape);
    return this.predict(x, checkOptions(`${this.name}.reconstruct`, opts, BATCH_OPTION_KEYS));
  }

  /** n images decoded from z ~ N(0, I) drawn by vae_normal(seed): [n, inputSize] probabilities. */
  sample(n: number, opts: { seed?: number } = {}): Tensor {
    if (!(Number.isInteger(n) && n > 0)) throw new WasmzooError('E_ARGUMENT', `${this.name}.sample: n must be a positive integer, got ${n}`);
    opts = checkOptions(`${this.name}.sample`, opts, SEED_OPTION_KEYS);
    const io = this.plan(`sample:${n}`, () => new IOPlan(runtime(), [], (g) => {
      const z = g.value([n, this.latent]);
      const k = g.rt.k;
      g.op(`${this.name}.sample_z`, [], (p) => k.vae_normal(at(p, z), n * this.latent, this.seedLo, this.seedHi));
      return [this.buildDecoder(g, z)];
    }));
    this.seedLo = (opts.seed ?? 0) | 0;
    this.seedHi = SAMPLE_HI | 0;
    return new Tensor(io.run([])[0], [n, this.inputSize]);
  }

  /**
   * Latent interpolation: decode((1 - t) * mu(xa) + t * mu(xb)) for t = 0, 1/(steps-1), ..., 1.
   * xa, xb: one sample each (any shape with inputSize values). Returns [steps, inputSize] probabilities.
   */
  interpolate(xa: Tensor, xb: Tensor, steps = 8): Tensor {
    const D = this.inputSize, L = this.latent;
    xa = tensorArg(`${this.name}.interpolate`, xa, 'xa');
    xb = tensorArg(`${this.name}.interpolate`, xb, 'xb');
    for (const [w, t] of [['xa', xa], ['xb', xb]] as const) {
      if (t.data.length !== D) throw new WasmzooError('E_SHAPE', `${this.name}.interpolate: ${w} must be one sample of ${D} values, got shape [${t.shape.join(', ')}]`);
    }
    if (!(Number.isInteger(steps) && steps >= 2)) throw new WasmzooError('E_ARGUMENT', `${this.name}.interpolate: steps must be an integer >= 2, got ${steps}`);
    const both = new Float32Array(2 * D);
    both.set(xa.data, 0);
    both.set(xb.data, D);
    const { mu } = this.encode(new Tensor(both, [2, D]));
    const z = new Float32Array(steps * L);
    for (let s = 0; s < steps; s++) {
      const t = s / (steps - 1);
      for (let j = 0; j < L; j++) z[s * L + j] = (1 - t) * mu.data[j] + t * mu.data[L + j];
    }
    return this.decode(new Tensor(z, [steps, L]));
  }

  // ---- plans for the methods above (forward/predict use Module's own) ----

  private plan(key: string, make: () => IOPlan): IOPlan {
    return this.ioPlans.get(key, make);
  }
}

/** Options of `wasmzoo.vae`: the architecture, `weights` ('fashion-mnist' or any source), `download`, `strict`, `init`. */
export type VAEBuildOptions = VAEOptions & BuildOptions & { weights?: ZooWeightSource | 'fashion-mnist' };

/** Build a VAE (initialising the runtime if needed) and load `weights` if given (src/models/build.ts). */
export function vae(opts: VAEBuildOptions = {}): Promise<VAE> {
  return buildModel('vae', opts, VAE_OPTION_KEYS, (o) => new VAE(o));
}
