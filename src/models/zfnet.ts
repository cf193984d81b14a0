/**
 * ZFNet (Zeiler & Fergus, "Visualizing and Understanding Convolutional Networks", ECCV 2014,
 * arXiv:1311.2901), the 8-layer ImageNet model of its Figure 3. torchvision has no ZFNet; the same net as a
 * PyTorch module is tools/zfnet.py (its golden file comes from there). Attribute names follow torchvision's
 * AlexNet (`features.N`, `classifier.N`), so weights trained with tools/zfnet.py load unchanged.
 *
 * Layer table (input 3x224x224; sizes as in the paper's figure: 110 -> 55 -> 26 -> 13 -> 6):
 *
 *   key          layer                                              output (224 input)
 *   features.0   Conv2d(3, 96, 7, stride 2, padding 1)   + ReLU (1)   96 x 110 x 110
 *   features.2   MaxPool2d(3, stride 2, ceil_mode)                     96 x 55 x 55
 *   features.3   LocalResponseNorm(5, alpha 1e-4, beta 0.75, k 2)      96 x 55 x 55
 *   features.4   Conv2d(96, 256, 5, stride 2)            + ReLU (5)   256 x 26 x 26
 *   features.6   MaxPool2d(3, stride 2, ceil_mode)                    256 x 13 x 13
 *   features.7   LocalResponseNorm(5, alpha 1e-4, beta 0.75, k 2)     256 x 13 x 13
 *   features.8   Conv2d(256, 384, 3, padding 1)          + ReLU (9)   384 x 13 x 13
 *   features.10  Conv2d(384, 384, 3, padding 1)          + ReLU (11)  384 x 13 x 13
 *   features.12  Conv2d(384, 256, 3, padding 1)          + ReLU (13)  256 x 13 x 13
 *   features.14  MaxPool2d(3, stride 2, ceil_mode)                    256 x 6 x 6
 *   avgpool      AdaptiveAvgPool2d((6, 6))  (identity at 224, as torchvision's AlexNet; lets smaller inputs in)
 *   classifier   0 Dropout  1 Linear(9216, 4096)  2 ReLU  3 Dropout  4 Linear(4096, 4096)  5 ReLU
 *                6 Linear(4096, numClasses)
 *
 * Choices where the paper is silent: conv1 padding 1 and ceil-mode pooling (Caffe's convention) are what
 * give the paper's 110 / 55 / 26 / 13 / 6 maps; the normalisation is AlexNet's local response
 * normalisation across 5 channels with AlexNet's constants; dropout 0.5 as in the paper. 62.4M parameters.
 */
import { Conv2d } from '../nn/layers/conv.js';
import { MaxPool2d } from '../nn/layers/pool.js';
import { LocalResponseNorm } from '../nn/layers/norm.js';
import { ReLU } from '../nn/layers/activation.js';
import { Sequential } from '../nn/layers/container.js';
import { buildZoo, type ZooModelOptions, type ZooOptions } from './common.js';
import { AlexStyleNet } from './alexnet.js';

export class ZFNet extends AlexStyleNet {
  constructor(opts: ZooModelOptions = {}) {
    const lrn = () => new LocalResponseNorm(5, { alpha: 1e-4, beta: 0.75, k: 2 });
    const pool = () => new MaxPool2d(3, { stride: 2, ceilMode: true });
    super('zfnet', opts, new Sequential(
      new Conv2d(3, 96, 7, { stride: 2, padding: 1 }), new ReLU(), pool(), lrn(),
      new Conv2d(96, 256, 5, { stride: 2 }), new ReLU(), pool(), lrn(),
      new Conv2d(256, 384, 3, { padding: 1 }), new ReLU(),
      new Conv2d(384, 384, 3, { padding: 1 }), new ReLU(),
      new Conv2d(384, 256, 3, { padding: 1 }), new ReLU(), pool(),
    ));
  }
}

/** `await wasmzoo.zfnet({ weights, numClasses })`: Zeiler & Fergus 2013 (no torchvision weights exist). */
export function zfnet(opts: ZooOptions = {}): Promise<ZFNet> {
  return buildZoo('zfnet', opts, (o) => new ZFNet(o));
}
