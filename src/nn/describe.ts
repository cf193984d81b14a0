/**
 * How modules describe themselves to people: `module.toString()` (PyTorch's repr: the tree of children with
 * each layer's settings) and `module.summary(inputShape)` (a table of layer, output shape and parameter
 * count, as Keras' summary() and torchinfo). Kept apart from module.ts, which runs things.
 *
 * A layer's settings are its own public configuration fields (numbers, booleans, strings and short number
 * arrays: Conv2d's inChannels, kernelSize, ...), read generically, so a new layer describes itself without
 * code here.
 */
import { GraphBuilder, toNHWC, type Value } from '../graph/graph.js';
import { runtime } from '../runtime/runtime.js';
import { shapeStr, type Shape } from '../tensor.js';

/** What describe needs of a module (structural, so module.ts can import this file without a circle). */
interface Module {
  readonly constructor: { name: string };
  namedChildren(): [string, Module][];
  parameterCount(): number;
  stateDict(): Record<string, { size: number }>;
  build(g: GraphBuilder, x: Value, ...rest: unknown[]): Value;
}

/** Fields every module has that are state, not settings. */
const NOT_SETTINGS = new Set(['name', 'training', 'caches', 'plans', 'rt', 'disposed']);

/** The module's settings as `key=value` pairs (PyTorch's extra_repr). */
export function settings(m: Module): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(m)) {
    if (k.startsWith('_') || NOT_SETTINGS.has(k)) continue;
    if (typeof v === 'number' || typeof v === 'boolean') parts.push(`${k}=${v}`);
    else if (typeof v === 'string') parts.push(`${k}=${JSON.stringify(v)}`);
    else if (Array.isArray(v) && v.length <= 8 && v.every((x) => typeof x === 'number')) parts.push(`${k}=[${v.join(', ')}]`);
  }
  return parts.join(', ');
}

/** The class name a module prints as. */
export function typeName(m: Module): string {
  return m.constructor.name;
}

/** PyTorch-style repr: `Type(settings)` for a leaf, the children indented one per line for a container. */
export function describe(m: Module, indent = ''): string {
  const children = m.namedChildren();
  const own = settings(m);
  if (!children.length) return `${typeName(m)}(${own})`;
  const inner = indent + '  ';
  const lines = children.map(([k, c]) => `${inner}(${k}): ${describe(c, inner)}`);
  return `${typeName(m)}(${own ? own + ',' : ''}\n${lines.join('\n')}\n${indent})`;
}

export interface SummaryRow {
  /** state_dict prefix of the layer ("" for the model itself). */
  name: string;
  type: string;
  depth: number;
  /** Output shape for the summary's input (NCHW for images), or undefined when the layer is not run by forward(). */
  outputShape: Shape | undefined;
  /** Learnable values in the layer and its children (buffers excluded). */
  parameters: number;
}

/**
 * Rows of module.summary(): plans the module for `inputShape` (as forward() would, without running it or
 * keeping a plan) and records each layer's output shape. A layer fused into the one before it (batch norm,
 * an activation after a conv) keeps the shape it was given, which is the shape before it.
 */
export function summaryRows(model: Module, inputShape: Shape): SummaryRow[] {
  const rows: SummaryRow[] = [];
  const byModule = new Map<Module, SummaryRow>();
  const parent = new Map<SummaryRow, SummaryRow | undefined>();
  const leaf = new Set<SummaryRow>();
  const walk = (m: Module, name: string, depth: number, up: SummaryRow | undefined): void => {
    const row: SummaryRow = { name, type: typeName(m), depth, outputShape: undefined, parameters: m.parameterCount() };
    rows.push(row);
    byModule.set(m, row);
    parent.set(row, up);
    if (!m.namedChildren().length) leaf.add(row);
    for (const [k, c] of m.namedChildren()) walk(c, name ? `${name}.${k}` : k, depth + 1, row);
  };
  walk(model, '', 0, undefined);
  // record what each module's build returns: instance-level wrappers, removed afterwards
  const wrapped: Module[] = [];
  for (const m of byModule.keys()) {
    const build = m.build;
    (m as { build: Module['build'] }).build = function (this: Module, g: GraphBuilder, x: Value, ...rest: unknown[]): Value {
      const y = (build as (...a: unknown[]) => Value).call(this, g, x, ...rest);
      const row = byModule.get(m)!;
      row.outputShape = writesInto(rest, y) ? sliceShape(m, row, rows, y) : y.shape;
      return y;
    };
    wrapped.push(m);
  }
  try {
    (model as unknown as { checkInput(s: Shape): void }).checkInput(inputShape);
    const g = new GraphBuilder(runtime());
    model.build(g, toNHWC(g, g.value(inputShape)));
  } finally {
    for (const m of wrapped) delete (m as { build?: unknown }).build;
  }
  // a leaf that never built itself inside a container that ran was fused into the layer before it
  for (let i = 1; i < rows.length; i++) {
    const r = rows[i];
    if (!r.outputShape && leaf.has(r) && ancestorRan(r, parent) && rows[i - 1].depth >= r.depth) r.outputShape = rows[i - 1].outputShape;
  }
  // a container its parent bypassed (built its layers one by one) ends with its last layer's output
  for (let i = rows.length - 1; i >= 0; i--) {
    const r = rows[i];
    if (r.outputShape || leaf.has(r)) continue;
    for (let j = i + 1; j < rows.length && rows[j].depth > r.depth; j++) if (rows[j].outputShape) r.outputShape = rows[j].outputShape;
  }
  return rows;
}

function ancestorRan(r: SummaryRow, parent: Map<SummaryRow, SummaryRow | undefined>): boolean {
  for (let up = parent.get(r); up; up = parent.get(up)) if (up.outputShape) return true;
  return false;
}

/**
 * A layer that writes its channel slice of a concatenation in place (GoogLeNet's branches: `into`) returns
 * the whole concatenation; its own output is the slice.
 */
function writesInto(args: unknown[], y: Value): boolean {
  return args.some((a) => {
    const into = (a as { into?: { value?: Value } } | undefined)?.into ?? (a as { value?: Value; channelOffset?: number } | undefined);
    return typeof into === 'object' && into !== null && 'channelOffset' in (into as object) && (into as { value?: Value }).value?.buf === y.buf;
  });
}

function sliceShape(m: Module, row: SummaryRow, rows: SummaryRow[], y: Value): Shape {
  const out = (m as { outChannels?: unknown }).outChannels;
  if (typeof out === 'number') return [y.shape[0], out, ...y.shape.slice(2)];
  // a container: its last layer that ran made the slice
  let i = rows.indexOf(row) + 1, last: Shape | undefined;
  for (; i < rows.length && rows[i].depth > row.depth; i++) if (rows[i].outputShape) last = rows[i].outputShape;
  return last ?? y.shape;
}

/** The summary table as text (what module.summary() returns). */
export function summaryTable(model: Module, inputShape: Shape): string {
  const rows = summaryRows(model, inputShape);
  const cells = rows.map((r) => [`${'  '.repeat(r.depth)}${r.name ? `${r.name} (${r.type})` : r.type}`, r.outputShape ? shapeStr(r.outputShape) : '-', r.depth && r.parameters === 0 ? '-' : r.parameters.toLocaleString('en-US')]);
  const head = ['Layer (type)', 'Output shape', 'Param #'];
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `${c[0].padEnd(w[0])}  ${c[1].padEnd(w[1])}  ${c[2].padStart(w[2])}`;
  const rule = '='.repeat(w[0] + w[1] + w[2] + 4);
  let buffers = -rows[0].parameters;
  for (const t of Object.values(model.stateDict())) buffers += t.size;
  return [
    rule, line(head), rule, ...cells.map(line), rule,
    `Input shape: ${shapeStr(inputShape)}`,
    `Learnable parameters: ${rows[0].parameters.toLocaleString('en-US')} (${(rows[0].parameters * 4 / 2 ** 20).toFixed(2)} MiB as float32)`,
    ...(buffers ? [`Buffers (running statistics): ${buffers.toLocaleString('en-US')}`] : []),
    rule,
  ].join('\n');
}
