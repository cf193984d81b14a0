/**
 * Sequential as torch.nn.Sequential: children named "0", "1", ... (or by the keys of an object), so
 * state_dict keys match PyTorch's. While building it fuses what inference allows:
 *   Conv2d -> BatchNorm2d -> activation   becomes one conv with folded weights and a fused epilogue,
 *   Linear -> BatchNorm1d -> activation   likewise,
 *   BatchNorm -> activation               one scale_shift with the activation.
 */
import { Act } from '../../runtime/activation.js';
import type { GraphBuilder, Value } from '../../graph/graph.js';
import { Module } from '../module.js';
import { isActivation } from './activation.js';
import { Conv2d } from './conv.js';
import { Linear } from './linear.js';
import { BatchNorm1d, BatchNorm2d } from './norm.js';

export class Sequential extends Module {
  private readonly layers: Module[] = [];

  constructor(...modules: Module[] | [Record<string, Module>]) {
    super();
    const first = modules[0];
    if (modules.length === 1 && !(first instanceof Module)) {
      for (const [k, m] of Object.entries(first as Record<string, Module>)) this.layers.push(this.child(k, m));
    } else {
      (modules as Module[]).forEach((m, i) => this.layers.push(this.child(String(i), m)));
    }
  }

  get length(): number {
    return this.layers.length;
  }

  at(i: number): Module {
    return this.layers[i < 0 ? this.layers.length + i : i];
  }

  build(g: GraphBuilder, x: Value): Value {
    return buildChain(g, this.layers, x);
  }
}

/** Build a chain of layers, fusing batch norms and activations into the layer before them. */
export function buildChain(g: GraphBuilder, layers: readonly Module[], x: Value): Value {
  for (let i = 0; i < layers.length; i++) {
    const m = layers[i];
    const next = layers[i + 1];
    if (m instanceof Conv2d || m instanceof Linear) {
      const bn = (m instanceof Conv2d && next instanceof BatchNorm2d) || (m instanceof Linear && next instanceof BatchNorm1d) ? next : undefined;
      const after = layers[i + (bn ? 2 : 1)];
      const act = after && isActivation(after) ? after.act : Act.None;
      x = m instanceof Conv2d ? m.build(g, x, { bn: bn as BatchNorm2d | undefined, act }) : m.build(g, x, { bn: bn as BatchNorm1d | undefined, act });
      i += (bn ? 1 : 0) + (act.code !== Act.None.code ? 1 : 0);
    } else if ((m instanceof BatchNorm2d || m instanceof BatchNorm1d) && next && isActivation(next)) {
      x = m.build(g, x, next.act);
      i++;
    } else {
      x = m.build(g, x);
    }
  }
  return x;
}
