/**
 * The ImageNet zoo by name: builder and metadata (torchvision's weights meta, for the default
 * configuration: 1000 classes, 3x224x224 input). `model.meta` gives the same for a built model (its
 * parameter count and FLOPs follow numClasses / includeTop).
 *
 *   const { build, meta } = wasmzoo.zoo.resnet50;
 *   meta.numParams  // 25557032, as torchvision
 *   meta.flops      // 8.18e9: 2 x multiply-adds of convs and linears, batch 1, 224x224
 *
 * Converting torchvision's pretrained weights (keys load unchanged; tools/safetensors_py.py is a 20-line
 * writer, the `safetensors` package's save_file works too):
 *
 *   import torchvision, sys; sys.path.insert(0, 'tools'); import safetensors_py
 *   m = torchvision.models.resnet50(weights='IMAGENET1K_V1')
 *   safetensors_py.save('resnet50.safetensors', {k: v.numpy() for k, v in m.state_dict().items()})
 *
 *   const model = await wasmzoo.resnet50({ weights: 'resnet50.safetensors' });   // path, URL, bytes, Response
 *
 * GoogLeNet: pass `transformInput: true` with torchvision's pretrained weights (torchvision sets it when it
 * loads them); its aux1/aux2 keys are skipped. Inputs: resize 256, center-crop 224, ImageNet mean/std.
 */
import { alexnet } from './alexnet.js';
import { zfnet } from './zfnet.js';
import { googlenet, type GoogLeNetOptions } from './googlenet.js';
import { vgg11, vgg13, vgg16, vgg19, vgg11_bn, vgg13_bn, vgg16_bn, vgg19_bn } from './vgg.js';
import { resnet18, resnet34, resnet50, resnet101, resnet152 } from './resnet.js';
import { ARCH_STATS, zooMeta, type ModelMeta, type ZooModel, type ZooName, type ZooOptions } from './common.js';

export interface ZooEntry {
  build: (opts?: ZooOptions & GoogLeNetOptions) => Promise<ZooModel>;
  meta: ModelMeta;
}

const BUILDERS: Record<ZooName, (opts?: ZooOptions) => Promise<ZooModel>> = {
  alexnet, zfnet, googlenet, vgg11, vgg13, vgg16, vgg19, vgg11_bn, vgg13_bn, vgg16_bn, vgg19_bn,
  resnet18, resnet34, resnet50, resnet101, resnet152,
};

/** Linear multiply-adds of the default heads (1000 classes): FLOPs = convFlops + 2 x these. */
const HEAD_MACS: Record<ZooName, number> = Object.fromEntries(
  (Object.keys(BUILDERS) as ZooName[]).map((n) => {
    const alexHead = 9216 * 4096 + 4096 * 4096 + 4096 * 1000;
    const vggHead = 25088 * 4096 + 4096 * 4096 + 4096 * 1000;
    const fcIn = n === 'googlenet' ? 1024 : n === 'resnet18' || n === 'resnet34' ? 512 : 2048;
    return [n, n === 'alexnet' || n === 'zfnet' ? alexHead : n.startsWith('vgg') ? vggHead : fcIn * 1000];
  }),
) as Record<ZooName, number>;

function defaultMeta(name: ZooName): ModelMeta {
  const s = ARCH_STATS[name];
  return zooMeta(name, s.numParams, s.convFlops + 2 * HEAD_MACS[name], s, 'imagenet-1k');
}

/** Every zoo model: `zoo.resnet18.build({ weights })`, `zoo.resnet18.meta`. */
export const zoo: Readonly<Record<ZooName, ZooEntry>> = Object.freeze(
  Object.fromEntries((Object.keys(BUILDERS) as ZooName[]).map((n) => [n, Object.freeze({ build: BUILDERS[n], meta: defaultMeta(n) })])),
) as Record<ZooName, ZooEntry>;

/** The names, in the order of the table. */
export const zooNames = Object.keys(BUILDERS) as ZooName[];
