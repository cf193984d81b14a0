// TensorFlow.js (layers API, NHWC) versions of the benchmark models, with the same weights as the
// torchvision models: every weight is taken from a `hash(key, shape)` callback by its PyTorch state_dict key
// and torch shape (bench/models.mjs passes wasmzoo's hashed-weights function), then converted:
//   conv OIHW -> HWIO; linear [out, in] -> [in, out]; the first linear after a flatten has its input rows
//   permuted from PyTorch's C,H,W order to TF.js's H,W,C; batch norm is folded into the preceding conv
//   (as torch.onnx.export does for onnxruntime and wasmzoo does itself), so TF.js runs its fused
//   conv+bias+relu op like the others.
// Padding: stride-1 convs with k = 2p + 1 use 'same' (symmetric); strided padded convs get an explicit
// zeroPadding2d, because TF's 'same' pads the extra row at the end where PyTorch pads both sides. Ceil-mode
// max pools (GoogLeNet) are TF 'same' pools (identical windows at these sizes); ResNet's padded max pool
// zero-pads first, exact because its input is after a ReLU (>= 0).
// Each builder also counts multiply-adds of conv and linear layers (FLOPs = 2 x MACs).
//
// buildTfjs(tf, name, hash) -> { model, macs, inputShape (NHWC), nchwShape }

class Builder {
  constructor(tf, hash) {
    this.tf = tf;
    this.hash = hash;
    this.macs = 0;
  }

  /** Conv (PyTorch key `key`), optional folded batch norm (`bn` key prefix), then ReLU unless act = null. */
  conv(x, key, cout, k, { stride = 1, pad = 0, bias = true, bn = null, eps = 1e-5, act = 'relu' } = {}) {
    const tf = this.tf;
    const cin = x.shape[3];
    const wt = this.hash(`${key}.weight`, [cout, cin, k, k]);
    const b = bias ? Float32Array.from(this.hash(`${key}.bias`, [cout])) : new Float32Array(cout);
    const scale = new Float32Array(cout).fill(1);
    if (bn) {
      const gamma = this.hash(`${bn}.weight`, [cout]);
      const beta = this.hash(`${bn}.bias`, [cout]);
      const mean = this.hash(`${bn}.running_mean`, [cout]);
      const vr = this.hash(`${bn}.running_var`, [cout]);
      for (let o = 0; o < cout; o++) {
        scale[o] = gamma[o] / Math.sqrt(vr[o] + eps);
        b[o] = (b[o] - mean[o]) * scale[o] + beta[o];
      }
    }
    const hwio = new Float32Array(k * k * cin * cout);
    for (let o = 0; o < cout; o++) {
      for (let i = 0; i < cin; i++) {
        for (let y = 0; y < k; y++) {
          for (let z = 0; z < k; z++) hwio[((y * k + z) * cin + i) * cout + o] = wt[((o * cin + i) * k + y) * k + z] * scale[o];
        }
      }
    }
    let padding = 'valid';
    if (pad > 0) {
      if (stride === 1 && 2 * pad + 1 === k) padding = 'same';
      else x = tf.layers.zeroPadding2d({ padding: pad }).apply(x);
    }
    const y = tf.layers.conv2d({
      filters: cout, kernelSize: k, strides: stride, padding, activation: act ?? 'linear', useBias: true,
      weights: [tf.tensor4d(hwio, [k, k, cin, cout]), tf.tensor1d(b)],
    }).apply(x);
    const [, oh, ow] = y.shape;
    this.macs += oh * ow * cout * k * k * cin;
    return y;
  }

  /** Linear (PyTorch key), from a flat input; `chw` = [C, H, W] when the input came from a NHWC flatten. */
  dense(x, key, out, { act = 'relu', chw = null } = {}) {
    const tf = this.tf;
    const inF = x.shape[1];
    const wt = this.hash(`${key}.weight`, [out, inF]);
    const b = this.hash(`${key}.bias`, [out]);
    const k = new Float32Array(inF * out);
    for (let r = 0; r < inF; r++) {
      let col = r; // TF.js input row r -> PyTorch input column
      if (chw) {
        const [c, h, w] = chw;
        const ch = r % c;
        const hw = (r - ch) / c;
        col = ch * h * w + hw;
      }
      for (let o = 0; o < out; o++) k[r * out + o] = wt[o * inF + col];
    }
    this.macs += inF * out;
    return tf.layers.dense({ units: out, activation: act ?? 'linear', weights: [tf.tensor2d(k, [inF, out]), tf.tensor1d(Float32Array.from(b))] }).apply(x);
  }

  flatten(x) {
    const [, h, w, c] = x.shape;
    return [this.tf.layers.flatten().apply(x), [c, h, w]];
  }

  maxPool(x, k, stride, padding = 'valid') {
    return this.tf.layers.maxPooling2d({ poolSize: k, strides: stride, padding }).apply(x);
  }
}

function lenet5(b, x) {
  x = b.conv(x, 'conv1', 6, 5, { pad: 2 });
  x = b.maxPool(x, 2, 2);
  x = b.conv(x, 'conv2', 16, 5);
  x = b.maxPool(x, 2, 2);
  const [f, chw] = b.flatten(x);
  x = b.dense(f, 'fc1', 120, { chw });
  x = b.dense(x, 'fc2', 84);
  return b.dense(x, 'fc3', 10, { act: null });
}

function alexnet(b, x) {
  x = b.conv(x, 'features.0', 64, 11, { stride: 4, pad: 2 });
  x = b.maxPool(x, 3, 2);
  x = b.conv(x, 'features.3', 192, 5, { pad: 2 });
  x = b.maxPool(x, 3, 2);
  x = b.conv(x, 'features.6', 384, 3, { pad: 1 });
  x = b.conv(x, 'features.8', 256, 3, { pad: 1 });
  x = b.conv(x, 'features.10', 256, 3, { pad: 1 });
  x = b.maxPool(x, 3, 2); // 6x6: AdaptiveAvgPool2d((6, 6)) is the identity at 224
  const [f, chw] = b.flatten(x);
  x = b.dense(f, 'classifier.1', 4096, { chw });
  x = b.dense(x, 'classifier.4', 4096);
  return b.dense(x, 'classifier.6', 1000, { act: null });
}

function vgg16(b, x) {
  const cfg = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];
  let i = 0;
  for (const v of cfg) {
    if (v === 'M') { x = b.maxPool(x, 2, 2); i += 1; } else { x = b.conv(x, `features.${i}`, v, 3, { pad: 1 }); i += 2; }
  }
  const [f, chw] = b.flatten(x); // 7x7: AdaptiveAvgPool2d((7, 7)) is the identity at 224
  x = b.dense(f, 'classifier.0', 4096, { chw });
  x = b.dense(x, 'classifier.3', 4096);
  return b.dense(x, 'classifier.6', 1000, { act: null });
}

function resnet(b, x, block, layers) {
  const tf = b.tf;
  x = b.conv(x, 'conv1', 64, 7, { stride: 2, pad: 3, bias: false, bn: 'bn1' });
  x = tf.layers.zeroPadding2d({ padding: 1 }).apply(x); // after ReLU: zero padding == -inf padding
  x = b.maxPool(x, 3, 2);
  let cin = 64;
  const expansion = block === 'basic' ? 1 : 4;
  layers.forEach((n, li) => {
    const width = 64 << li;
    for (let j = 0; j < n; j++) {
      const p = `layer${li + 1}.${j}`;
      const stride = j === 0 && li > 0 ? 2 : 1;
      const cout = width * expansion;
      let y;
      if (block === 'basic') {
        y = b.conv(x, `${p}.conv1`, width, 3, { stride, pad: 1, bias: false, bn: `${p}.bn1` });
        y = b.conv(y, `${p}.conv2`, width, 3, { pad: 1, bias: false, bn: `${p}.bn2`, act: null });
      } else {
        y = b.conv(x, `${p}.conv1`, width, 1, { bias: false, bn: `${p}.bn1` });
        y = b.conv(y, `${p}.conv2`, width, 3, { stride, pad: 1, bias: false, bn: `${p}.bn2` });
        y = b.conv(y, `${p}.conv3`, cout, 1, { bias: false, bn: `${p}.bn3`, act: null });
      }
      const id = stride !== 1 || cin !== cout
        ? b.conv(x, `${p}.downsample.0`, cout, 1, { stride, bias: false, bn: `${p}.downsample.1`, act: null })
        : x;
      x = tf.layers.reLU().apply(tf.layers.add().apply([y, id]));
      cin = cout;
    }
  });
  x = tf.layers.globalAveragePooling2d({}).apply(x);
  return b.dense(x, 'fc', 1000, { act: null });
}

function googlenet(b, x) {
  const tf = b.tf;
  const bc = (x, key, cout, k, opts = {}) => b.conv(x, `${key}.conv`, cout, k, { bias: false, bn: `${key}.bn`, eps: 1e-3, ...opts });
  const inception = (x, key, c1, c3r, c3, c5r, c5, pp) => {
    const b1 = bc(x, `${key}.branch1`, c1, 1);
    const b2 = bc(bc(x, `${key}.branch2.0`, c3r, 1), `${key}.branch2.1`, c3, 3, { pad: 1 });
    const b3 = bc(bc(x, `${key}.branch3.0`, c5r, 1), `${key}.branch3.1`, c5, 3, { pad: 1 }); // torchvision: 3x3 here
    const b4 = bc(b.maxPool(x, 3, 1, 'same'), `${key}.branch4.1`, pp, 1);
    return tf.layers.concatenate({ axis: -1 }).apply([b1, b2, b3, b4]);
  };
  x = bc(x, 'conv1', 64, 7, { stride: 2, pad: 3 });
  x = b.maxPool(x, 3, 2, 'same'); // ceil_mode=True
  x = bc(x, 'conv2', 64, 1);
  x = bc(x, 'conv3', 192, 3, { pad: 1 });
  x = b.maxPool(x, 3, 2, 'same');
  x = inception(x, 'inception3a', 64, 96, 128, 16, 32, 32);
  x = inception(x, 'inception3b', 128, 128, 192, 32, 96, 64);
  x = b.maxPool(x, 3, 2, 'same');
  x = inception(x, 'inception4a', 192, 96, 208, 16, 48, 64);
  x = inception(x, 'inception4b', 160, 112, 224, 24, 64, 64);
  x = inception(x, 'inception4c', 128, 128, 256, 24, 64, 64);
  x = inception(x, 'inception4d', 112, 144, 288, 32, 64, 64);
  x = inception(x, 'inception4e', 256, 160, 320, 32, 128, 128);
  x = b.maxPool(x, 2, 2, 'same');
  x = inception(x, 'inception5a', 256, 160, 320, 32, 128, 128);
  x = inception(x, 'inception5b', 384, 192, 384, 48, 128, 128);
  x = tf.layers.globalAveragePooling2d({}).apply(x);
  return b.dense(x, 'fc', 1000, { act: null });
}

const BUILDERS = {
  lenet5: [lenet5, [28, 28, 1]],
  alexnet: [alexnet, [224, 224, 3]],
  vgg16: [vgg16, [224, 224, 3]],
  resnet18: [(b, x) => resnet(b, x, 'basic', [2, 2, 2, 2]), [224, 224, 3]],
  resnet50: [(b, x) => resnet(b, x, 'bottleneck', [3, 4, 6, 3]), [224, 224, 3]],
  googlenet: [googlenet, [224, 224, 3]],
};

export const TFJS_MODELS = Object.keys(BUILDERS);

export function buildTfjs(tf, name, hash) {
  const [fn, shape] = BUILDERS[name];
  const b = new Builder(tf, hash);
  const input = tf.input({ shape });
  const model = tf.model({ inputs: input, outputs: fn(b, input) });
  const [h, w, c] = shape;
  return { model, macs: b.macs, inputShape: [1, h, w, c], nchwShape: [1, c, h, w] };
}
