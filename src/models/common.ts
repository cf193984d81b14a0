/**
 * Shared plumbing of the ImageNet zoo (AlexNet, ZFNet, VGG, ResNet, GoogLeNet): builder options, the
 * headless feature-extractor head, input checks and metadata. Weights go through the one builder path of
 * every model (src/models/build.ts).
 *
 * Every zoo model is a Module whose attribute names mirror torchvision's, so a torchvision `state_dict()`
 * saved as safetensors loads unchanged. Key policy (see ZooModel.optionalKey):
 *   - `*.num_batches_tracked` may be absent (it does not take part in inference);
 *   - a headless model (`includeTop: false`) skips the classifier keys of a full state dict (`classifier.*`,
 *     `fc.*`), so the same file serves both, strictly;
 *   - models add their own (GoogLeNet skips `aux1.*`, `aux2.*`).
 */
import { WasmzooError } from '../errors.js';
import { checkOptions, optionKeys } from '../options.js';
import type { WeightSource } from '../io/weights.js';
import { type GraphBuilder, type Value, shapeError } from '../graph/graph.js';
import { Module, type LoadOptions } from '../nn/module.js';
import { AdaptiveAvgPool2d, AdaptiveMaxPool2d } from '../nn/layers/pool.js';
import { Flatten } from '../nn/layers/misc.js';
import { Linear } from '../nn/layers/linear.js';
import { Conv2d } from '../nn/layers/conv.js';
import type { Shape } from '../tensor.js';
import { buildModel, type ArchitectureOptions, type BuildOptions } from './build.js';
import { IMAGENET_PREPROCESSING, modelMeta, type BaseModelMeta, type ImagePreprocessing } from './meta.js';

export { resolveWeights, type ZooWeightSource } from './build.js';

export type Pooling = 'avg' | 'max';

/** What a zoo model's constructor takes (`new ResNet('resnet18', { numClasses: 10 })`). */
export interface ZooModelOptions {
  /** Size of the last Linear (default 1000, ImageNet-1k). */
  numClasses?: number;
  /**
   * false: a headless feature extractor, like Keras `include_top=False`. Without `pooling` the output is the
   * last feature map, NCHW; with `pooling: 'avg' | 'max'` it is global-pooled to [N, C] embeddings.
   */
  includeTop?: boolean;
  pooling?: Pooling;
}

export const ZOO_MODEL_OPTION_KEYS = optionKeys<ZooModelOptions>({ numClasses: 1, includeTop: 1, pooling: 1 });

/** The options of a zoo builder (`wasmzoo.resnet18({ weights, numClasses })`): the model's, BuildOptions', and `winograd`. */
export interface ZooOptions extends BuildOptions, ZooModelOptions {
  /**
   * Winograd F(2x2, 3x3) for 3x3 convolutions (default true: 1.6-2x faster on ResNet/VGG layers). false keeps
   * weight memory at the raw size (Winograd's transformed 3x3 weights take 16/9 of it), e.g. for memory-tight pages.
   */
  winograd?: boolean;
}

/** Torchvision-style metadata of a zoo model (for its default configuration unless built otherwise). */
export interface ModelMeta extends BaseModelMeta<ZooPreprocessing> {
  /**
   * Floating-point operations of one forward pass, batch 1, at `inputSize`: 2 x the multiply-adds of every
   * convolution and linear layer (pooling, normalisation and activations not counted). torchvision's
   * `_ops` counts multiply-adds in G, i.e. flops / 2e9.
   */
  flops: number;
  /** [C, H, W] the weights are meant for. */
  inputSize: [number, number, number];
  /** Smallest H = W the architecture accepts (smaller inputs are rejected before planning). */
  minSize: number;
  /** torchvision's ImageNet transform: resize the short side, center-crop, scale to [0, 1], normalise. */
  preprocessing: ZooPreprocessing;
  /** Class labels: a key of the label tables (wasmzoo.imagenetClasses). */
  categories: 'imagenet-1k' | null;
}

export type ZooPreprocessing = ImagePreprocessing & { readonly resize: number; readonly crop: number };

/**
 * A zoo meta: the table numbers of `name` with the FLOPs and class count of this configuration (the
 * registry's default meta and every built model's).
 */
export function zooMeta(name: string, numParams: number, flops: number, stats: ArchStats, categories: ModelMeta['categories']): ModelMeta {
  return Object.freeze({
    name, numParams, flops, inputSize: [3, 224, 224] as [number, number, number], minSize: stats.minSize,
    preprocessing: IMAGENET_PREPROCESSING as ZooPreprocessing, categories, reference: stats.reference,
  });
}

/** Per-architecture numbers of the default configuration (1000 classes, 3x224x224), written by tools/gen_zoo_goldens.py. */
export interface ArchStats {
  numParams: number;
  /** 2 x multiply-adds of the convolutions alone at 224x224 (the linear part is computed from the model). */
  convFlops: number;
  minSize: number;
  reference: string;
}

/** Base of every zoo model: options, input check, key policy, headless head and metadata. */
export abstract class ZooModel extends Module {
  readonly includeTop: boolean;
  readonly pooling: Pooling | undefined;
  readonly numClasses: number;
  protected readonly stats: ArchStats;
  private headPool: Module | undefined;
  private readonly flatten = new Flatten();

  /** `keys`: the options the subclass takes (a model with options of its own passes them with these). */
  constructor(name: string, stats: ArchStats, opts: ZooModelOptions = {}, keys: readonly string[] = ZOO_MODEL_OPTION_KEYS) {
    super(name);
    opts = checkOptions(name, opts, keys);
    this.stats = stats;
    this.includeTop = opts.includeTop ?? true;
    this.pooling = opts.pooling;
    this.numClasses = opts.numClasses ?? 1000;
    if (!Number.isInteger(this.numClasses) || this.numClasses <= 0) {
      throw new WasmzooError('E_ARGUMENT', `${name}: numClasses must be a positive integer, got ${opts.numClasses}`);
    }
    if (this.pooling !== undefined && this.pooling !== 'avg' && this.pooling !== 'max') {
      throw new WasmzooError('E_ARGUMENT', `${name}: pooling must be 'avg', 'max' or undefined, got ${JSON.stringify(this.pooling)}`);
    }
    if (this.includeTop && this.pooling !== undefined) {
      throw new WasmzooError('E_ARGUMENT', `${name}: pooling applies to a headless model: pass includeTop: false with it`);
    }
    if (!this.includeTop && opts.numClasses !== undefined) {
      throw new WasmzooError('E_ARGUMENT', `${name}: numClasses needs the classifier: drop includeTop: false`);
    }
    if (this.pooling) {
      this.headPool = this.pooling === 'avg' ? new AdaptiveAvgPool2d(1) : new AdaptiveMaxPool2d(1);
      this.headPool.name = `${name}.pool`;
    }
    this.flatten.name = `${name}.flatten`;
  }

  /** Keys of the classifier, skipped when headless. */
  protected headKey(key: string): boolean {
    return /^(classifier|fc)\./.test(key);
  }

  /**
   * num_batches_tracked may be absent, but only this model's own: a foreign key that merely ends in
   * num_batches_tracked is unexpected under strict loading like any other (issue 15, item 13).
   */
  protected override optionalKey(key: string): boolean {
    return (key.endsWith('.num_batches_tracked') && this.ownKeys().has(key)) || (!this.includeTop && this.headKey(key));
  }

  private keys: Set<string> | undefined;
  private ownKeys(): Set<string> {
    return (this.keys ??= new Set(this.namedState().map(([k]) => k)));
  }

  /** The headless output: the feature map as it is, or global-pooled to [N, C]. */
  protected headless(g: GraphBuilder, x: Value): Value {
    if (!this.headPool) return x;
    return this.flatten.build(g, this.headPool.build(g, x));
  }

  protected override checkInput(s: Shape): void {
    const m = this.stats.minSize;
    if (s.length !== 4 || s[1] !== 3 || s[2] < m || s[3] < m) {
      throw shapeError(this.name, `[N, 3, H, W] with H, W >= ${m} (${this.meta.inputSize.slice(1).join('x')} for ImageNet weights)`, s);
    }
  }

  override loadStateDict(weights: WeightSource, opts: LoadOptions = {}): this {
    try {
      return super.loadStateDict(weights, opts);
    } catch (e) {
      if (e instanceof WasmzooError && e.code === 'E_STATE_DICT') {
        throw new WasmzooError('E_STATE_DICT', `${e.message}. (Are these weights of another architecture or configuration? This is ${this.describe()}.)`);
      }
      throw e;
    }
  }

  private describe(): string {
    return this.includeTop ? `${this.name} with ${this.numClasses} classes` : `a headless ${this.name}`;
  }

  /** Metadata of this model as built (parameter count and FLOPs follow numClasses and includeTop). */
  get meta(): ModelMeta {
    return modelMeta<ModelMeta>(this, () => {
      let linearMacs = 0;
      const walk = (m: Module): void => {
        if (m instanceof Linear) linearMacs += m.inFeatures * m.outFeatures;
        for (const [, c] of m.namedChildren()) walk(c);
      };
      walk(this);
      const categories = this.includeTop && this.numClasses === 1000 ? 'imagenet-1k' : null;
      return zooMeta(this.name, this.parameterCount(), this.stats.convFlops + 2 * linearMacs, this.stats, categories);
    });
  }
}

/**
 * The body of every zoo builder: the common builder path (build.ts) plus the zoo's `winograd` switch; `make`
 * gets the model's own options (`keys`).
 */
export function buildZoo<M extends ZooModel, O extends ZooOptions>(
  name: ZooName, opts: O, make: (opts: Omit<ArchitectureOptions<O>, 'winograd'>) => M, keys: readonly string[] = ZOO_MODEL_OPTION_KEYS,
): Promise<M> {
  return buildModel(name, opts, [...keys, 'winograd'], (o) => {
    const { winograd, ...model } = o as ArchitectureOptions<O> & { winograd?: boolean };
    const built = make(model as Omit<ArchitectureOptions<O>, 'winograd'>);
    if (winograd === false) setWinograd(built, false);
    return built;
  });
}

/** Switch Winograd convolutions on or off for every Conv2d of a model (see Conv2d.winograd). */
export function setWinograd(model: Module, on: boolean): void {
  const visit = (m: Module): void => {
    if (m instanceof Conv2d) m.winograd = on;
    for (const [, c] of m.namedChildren()) visit(c);
  };
  visit(model);
}


export type ZooName =
  | 'alexnet' | 'zfnet' | 'googlenet'
  | 'vgg11' | 'vgg13' | 'vgg16' | 'vgg19' | 'vgg11_bn' | 'vgg13_bn' | 'vgg16_bn' | 'vgg19_bn'
  | 'resnet18' | 'resnet34' | 'resnet50' | 'resnet101' | 'resnet152';

/**
 * Default-configuration numbers (1000 classes, 3x224x224), printed by tools/gen_zoo_goldens.py from the
 * PyTorch models (torchvision's own definitions, tools/zfnet.py) and checked by test/models/zoo.test.ts.
 * numParams equals torchvision's `num_params`; minSize is the smallest input the PyTorch model accepts.
 */
export const ARCH_STATS = {
  alexnet: { numParams: 61100840, convFlops: 1311133056, minSize: 63, reference: 'Krizhevsky 2014, arXiv:1404.5997 (torchvision)' },
  zfnet: { numParams: 62357608, convFlops: 2218821888, minSize: 47, reference: 'Zeiler & Fergus 2013, arXiv:1311.2901 (tools/zfnet.py)' },
  googlenet: { numParams: 6624904, convFlops: 2994704384, minSize: 15, reference: 'Szegedy et al. 2014, arXiv:1409.4842 (torchvision)' },
  resnet18: { numParams: 11689512, convFlops: 3627122688, minSize: 1, reference: 'He et al. 2015, arXiv:1512.03385 (torchvision)' },
  resnet34: { numParams: 21797672, convFlops: 7326498816, minSize: 1, reference: 'He et al. 2015, arXiv:1512.03385 (torchvision)' },
  resnet50: { numParams: 25557032, convFlops: 8174272512, minSize: 1, reference: 'He et al. 2015, arXiv:1512.03385 (torchvision)' },
  resnet101: { numParams: 44549160, convFlops: 15598714880, minSize: 1, reference: 'He et al. 2015, arXiv:1512.03385 (torchvision)' },
  resnet152: { numParams: 60192808, convFlops: 23023157248, minSize: 1, reference: 'He et al. 2015, arXiv:1512.03385 (torchvision)' },
  vgg11: { numParams: 132863336, convFlops: 14970912768, minSize: 32, reference: 'Simonyan & Zisserman 2014, arXiv:1409.1556 (torchvision)' },
  vgg11_bn: { numParams: 132868840, convFlops: 14970912768, minSize: 32, reference: 'Simonyan & Zisserman 2014, arXiv:1409.1556 (torchvision)' },
  vgg13: { numParams: 133047848, convFlops: 22369665024, minSize: 32, reference: 'Simonyan & Zisserman 2014, arXiv:1409.1556 (torchvision)' },
  vgg13_bn: { numParams: 133053736, convFlops: 22369665024, minSize: 32, reference: 'Simonyan & Zisserman 2014, arXiv:1409.1556 (torchvision)' },
  vgg16: { numParams: 138357544, convFlops: 30693261312, minSize: 32, reference: 'Simonyan & Zisserman 2014, arXiv:1409.1556 (torchvision)' },
  vgg16_bn: { numParams: 138365992, convFlops: 30693261312, minSize: 32, reference: 'Simonyan & Zisserman 2014, arXiv:1409.1556 (torchvision)' },
  vgg19: { numParams: 143667240, convFlops: 39016857600, minSize: 32, reference: 'Simonyan & Zisserman 2014, arXiv:1409.1556 (torchvision)' },
  vgg19_bn: { numParams: 143678248, convFlops: 39016857600, minSize: 32, reference: 'Simonyan & Zisserman 2014, arXiv:1409.1556 (torchvision)' },
} satisfies Record<ZooName, ArchStats>;
