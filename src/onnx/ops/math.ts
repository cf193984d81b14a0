/**
 * ONNX elementwise ops: arithmetic, math functions, activations, comparisons, logic, Where, Clip, Cast.
 * Semantics: https://onnx.ai/onnx/operators/ (opsets 7..18). Every op is a row of a table: its function per
 * compute kind (float / small int / BigInt), run by one broadcasting loop (broadcast.ts, mapBroadcast).
 * Integer dtypes keep integer semantics (Div truncates toward zero as C, Mod follows `fmod`, int32 products
 * wrap as in C); int64/uint64 compute with BigInt so they stay exact. float32 results round once, when
 * stored into their Float32Array.
 */
import { allocData, DTYPE_BY_CODE, roundHalfEven, type OnnxDType, type OnnxTensor } from '../value.js';
import { opError, type OpNode, type OpSpec, type OpTable } from './types.js';
import {
  finish, kindOf, mapBroadcast, outValues, sameDtype, values, MAX_ELEMENTS,
  type ElemFn, type Kind, type OutValues, type Values,
} from './broadcast.js';
import { elementwiseF32 } from './fast-f32.js';
import { need } from './tensor-util.js';

/** An op's function per compute kind: `f` for floats (and ints when `int` is absent), `big` for 64-bit ints. */
interface Fns { f: ElemFn; int?: ElemFn; big?: ElemFn }

const toBig = (r: number): bigint => (Number.isFinite(r) ? BigInt(Math.trunc(r)) : 0n);

/** The function for inputs of `kind`; 64-bit ints without a BigInt form go through Number (exact below 2^53). */
function pick(node: OpNode, fns: Fns, kind: Kind): ElemFn {
  if (kind === 'string') throw opError(node, 'does not take string tensors');
  if (kind === 'big') {
    if (fns.big) return fns.big;
    const f = fns.f;
    return (...v: bigint[]) => toBig(f(...v.map(Number)) as number);
  }
  return kind === 'float' ? fns.f : (fns.int ?? fns.f);
}

interface ElementwiseOp {
  fns: (node: OpNode) => Fns;
  /** Output dtype from the (first) input's dtype; default: the same. */
  out?: (dtype: OnnxDType) => OnnxDType;
  check?: (node: OpNode) => string | undefined;
  /** Sum/Max/Min/Mean: any number of inputs, folded pairwise (broadcasting is associative). */
  variadic?: boolean;
  /** Applied to the folded result, given the input count (Mean divides by it). */
  post?: (count: number) => Fns;
  /** The only input dtype the op takes (the logic ops: bool). */
  only?: OnnxDType;
}

const toBool = () => 'bool' as const;

function elementwise(op: ElementwiseOp, arity: number): OpSpec {
  return {
    check(node) {
      try {
        op.fns(node); // reads the attributes: a wrong attribute type is reported at load, with the rest
      } catch (e) {
        return (e as Error).message;
      }
      // opsets before 7 broadcast by an explicit `broadcast`/`axis` (and PRelu by channel): other semantics
      if (node.opset < 7 && (node.attrs.has('broadcast') || node.opType === 'PRelu')) return `opset ${node.opset}'s legacy broadcasting is not supported`;
      return op.check?.(node);
    },
    run(node, inputs, ctx) {
      const fast = elementwiseF32(node, inputs, ctx);
      if (fast) return [fast];
      const xs = sameDtype(node, op.variadic ? inputs : Array.from({ length: arity }, (_, i) => inputs[i]));
      const dtype = xs[0].dtype, outType = op.out?.(dtype) ?? dtype;
      if (op.only && dtype !== op.only) throw opError(node, `takes ${op.only} tensors, got ${dtype}`);
      const kind = kindOf(dtype), fn = pick(node, op.fns(node), kind);
      const alloc = (n: number) => outValues(node, outType, n);
      const first = xs.length < arity ? [xs[0]] : xs.slice(0, arity); // a variadic op of one input is a copy
      let acc = mapBroadcast(node, first.map((t) => t.dims), first.map(values), alloc, first.length === arity ? fn : (x) => x);
      for (const t of xs.slice(arity)) acc = mapBroadcast(node, [acc.dims, t.dims], [acc.out as Values, values(t)], alloc, fn);
      if (op.post) acc = mapBroadcast(node, [acc.dims], [acc.out as Values], alloc, pick(node, op.post(xs.length), kind));
      return [finish(outType, acc.dims, acc.out)];
    },
  };
}

const unary = (fns: (node: OpNode) => Fns, extra: Omit<ElementwiseOp, 'fns'> = {}) => elementwise({ fns, ...extra }, 1);
const binary = (fns: (node: OpNode) => Fns, extra: Omit<ElementwiseOp, 'fns'> = {}) => elementwise({ fns, ...extra }, 2);
/** A function that is the same expression for every kind (comparisons, selections). */
const any = (f: ElemFn) => () => ({ f, int: f, big: f });
const fl = (f: (x: number) => number) => () => ({ f });

// ---- scalar functions JavaScript's Math lacks


/** erf(a) for 0 <= a < 2 by its Maclaurin series (terms peak near e^4, so ~1e-15 of cancellation). */
function erfSeries(a: number): number {
  let term = a, sum = a;
  for (let n = 1; n < 100 && Math.abs(term) > 1e-17 * sum; n++) {
    term *= (-a * a) / n;
    sum += term / (2 * n + 1);
  }
  return sum * (2 / Math.sqrt(Math.PI));
}

/** erfc(a) for a >= 2 by its continued fraction (80 terms converge to double precision there), bottom-up. */
function erfcFraction(a: number): number {
  let frac = a; // a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))
  for (let k = 80; k >= 1; k--) frac = a + k / 2 / frac;
  return Math.exp(-a * a) / Math.sqrt(Math.PI) / frac;
}

/** erf to double precision (JavaScript's Math has none). */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (!(a >= 2)) return Number.isNaN(x) ? x : Math.sign(x) * erfSeries(a);
  return Math.sign(x) * (1 - erfcFraction(a));
}

/** erfc without the cancellation of 1 - erf for large x (Gelu's left tail). */
function erfc(x: number): number {
  const a = Math.abs(x);
  const r = a >= 2 ? erfcFraction(a) : 1 - erfSeries(a);
  return x >= 0 || Number.isNaN(x) ? r : 2 - r;
}

const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** Python-style modulo (the sign of the divisor), Mod with fmod = 0; `zero` is 0 or 0n. */
function floorMod<T extends number | bigint>(a: T, b: T, zero: T): T {
  if (b === zero) return zero;
  let r = ((a as number) % (b as number)) as T;
  if (r !== zero && (r < zero) !== (b < zero)) r = ((r as number) + (b as number)) as T;
  return r;
}

/** a^e modulo 2^64 (numpy's integer power wraps the same way); negative e gives 0 unless |a| = 1. */
function powBig(a: bigint, e: bigint): bigint {
  if (e < 0n) return a === 1n ? 1n : a === -1n ? (e % 2n === 0n ? 1n : -1n) : 0n;
  let r = 1n, b = BigInt.asIntN(64, a);
  for (; e > 0n; e >>= 1n) {
    if (e & 1n) r = BigInt.asIntN(64, r * b);
    b = BigInt.asIntN(64, b * b);
  }
  return r;
}

const f = (node: OpNode, name: string, dflt: number) => node.attrs.float(name, dflt);

// ---- the ops

const UNARY: OpTable = {
  Neg: unary(() => ({ f: (x: number) => -x, big: (x: bigint) => -x })),
  Abs: unary(() => ({ f: Math.abs, big: (x: bigint) => (x < 0n ? -x : x) })),
  Sign: unary(() => ({ f: (x: number) => (x > 0 ? 1 : x < 0 ? -1 : x), big: (x: bigint) => (x > 0n ? 1n : x < 0n ? -1n : 0n) })),
  Reciprocal: unary(fl((x) => 1 / x)),
  Floor: unary(fl(Math.floor)),
  Ceil: unary(fl(Math.ceil)),
  Round: unary(fl(roundHalfEven)),
  Exp: unary(fl(Math.exp)),
  Log: unary(fl(Math.log)),
  Sqrt: unary(fl(Math.sqrt)),
  Erf: unary(fl(erf)),
  Sin: unary(fl(Math.sin)),
  Cos: unary(fl(Math.cos)),
  Tan: unary(fl(Math.tan)),
  Asin: unary(fl(Math.asin)),
  Acos: unary(fl(Math.acos)),
  Atan: unary(fl(Math.atan)),
  Sinh: unary(fl(Math.sinh)),
  Cosh: unary(fl(Math.cosh)),
  Asinh: unary(fl(Math.asinh)),
  Acosh: unary(fl(Math.acosh)),
  Atanh: unary(fl(Math.atanh)),
  IsNaN: unary(any((x: number) => x !== x), { out: toBool }),
  IsInf: unary((node) => {
    const neg = node.attrs.int('detect_negative', 1) !== 0, pos = node.attrs.int('detect_positive', 1) !== 0;
    return { f: (x: number) => +((pos && x === Infinity) || (neg && x === -Infinity)), int: () => 0, big: () => 0 };
  }, { out: toBool }),
  Not: unary(() => ({ f: (x: number) => +!x }), { only: 'bool' }),
  // activations
  Relu: unary(() => ({ f: (x: number) => (x < 0 ? 0 : x), big: (x: bigint) => (x < 0n ? 0n : x) })),
  LeakyRelu: unary((n) => { const a = f(n, 'alpha', 0.01); return { f: (x: number) => (x < 0 ? a * x : x) }; }),
  Elu: unary((n) => { const a = f(n, 'alpha', 1); return { f: (x: number) => (x < 0 ? a * Math.expm1(x) : x) }; }),
  Selu: unary((n) => {
    const a = f(n, 'alpha', 1.67326319217681884765625), g = f(n, 'gamma', 1.05070102214813232421875);
    return { f: (x: number) => (x <= 0 ? g * a * Math.expm1(x) : g * x) };
  }),
  Celu: unary((n) => { const a = f(n, 'alpha', 1); return { f: (x: number) => Math.max(0, x) + Math.min(0, a * Math.expm1(x / a)) }; }),
  ThresholdedRelu: unary((n) => { const a = f(n, 'alpha', 1); return { f: (x: number) => (x > a ? x : 0) }; }),
  Sigmoid: unary(fl(sigmoid)),
  HardSigmoid: unary((n) => {
    const a = f(n, 'alpha', 0.2), b = f(n, 'beta', 0.5);
    return { f: (x: number) => Math.max(0, Math.min(1, a * x + b)) };
  }),
  HardSwish: unary(fl((x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)))),
  Tanh: unary(fl(Math.tanh)),
  Softplus: unary(fl(softplus)),
  Softsign: unary(fl((x) => x / (1 + Math.abs(x)))),
  Mish: unary(fl((x) => x * Math.tanh(softplus(x)))),
  Gelu: unary((n) => n.attrs.string('approximate', 'none') === 'tanh'
    ? { f: (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))) }
    : { f: (x: number) => 0.5 * x * erfc(-x / Math.SQRT2) }, {
    check: (n) => (['none', 'tanh'].includes(n.attrs.string('approximate', 'none')) ? undefined : `approximate '${n.attrs.string('approximate')}' is not 'none' or 'tanh'`),
  }),
  Shrink: unary((n) => {
    const l = f(n, 'lambd', 0.5), b = f(n, 'bias', 0);
    return { f: (x: number) => (x < -l ? x + b : x > l ? x - b : 0) };
  }),
};

const max = (a: number, b: number) => (a > b || a !== a ? a : b); // NaN propagates, as numpy.maximum
const min = (a: number, b: number) => (a < b || a !== a ? a : b);
const add = (a: number, b: number) => a + b;

const BINARY: OpTable = {
  Add: binary(any(add)),
  Sub: binary(any((a: number, b: number) => a - b)),
  Mul: binary(() => ({ f: (a: number, b: number) => a * b, int: Math.imul, big: (a: bigint, b: bigint) => a * b })),
  Div: binary(() => ({
    f: (a: number, b: number) => a / b,
    int: (a: number, b: number) => (b === 0 ? 0 : Math.trunc(a / b)),
    big: (a: bigint, b: bigint) => (b === 0n ? 0n : a / b),
  })),
  Mod: binary((n) => n.attrs.int('fmod', 0)
    ? { f: (a: number, b: number) => a % b, int: (a: number, b: number) => (b === 0 ? 0 : a % b), big: (a: bigint, b: bigint) => (b === 0n ? 0n : a % b) }
    : { f: (a: number, b: number) => (b === 0 ? NaN : floorMod(a, b, 0)), int: (a: number, b: number) => floorMod(a, b, 0), big: (a: bigint, b: bigint) => floorMod(a, b, 0n) }, {
    check: (n) => ([0, 1].includes(n.attrs.int('fmod', 0)) ? undefined : `fmod ${n.attrs.int('fmod')} is not 0 or 1`),
  }),
  PRelu: binary(any((x: number, s: number) => (x < 0 ? x * s : x))),
  // counts outside [0, width) give 0; a negative BigInt count would shift the other way, by up to 2^63 bits
  BitShift: binary((n) => n.attrs.string('direction', '') === 'LEFT'
    ? { f: (a: number, b: number) => (b >= 32 ? 0 : a << b), big: (a: bigint, b: bigint) => (b >= 64n || b < 0n ? 0n : BigInt.asUintN(64, a << b)) }
    : { f: (a: number, b: number) => (b >= 32 ? 0 : a >>> b), big: (a: bigint, b: bigint) => (b >= 64n || b < 0n ? 0n : a >> b) }, {
    check: (n) => (['LEFT', 'RIGHT'].includes(n.attrs.string('direction', '')) ? undefined : `direction '${n.attrs.string('direction', '')}' is not LEFT or RIGHT`),
  }),
  Equal: binary(any((a: number, b: number) => a === b), { out: toBool }),
  Less: binary(any((a: number, b: number) => a < b), { out: toBool }),
  Greater: binary(any((a: number, b: number) => a > b), { out: toBool }),
  LessOrEqual: binary(any((a: number, b: number) => a <= b), { out: toBool }),
  GreaterOrEqual: binary(any((a: number, b: number) => a >= b), { out: toBool }),
  And: binary(() => ({ f: (a: number, b: number) => a & b }), { only: 'bool' }),
  Or: binary(() => ({ f: (a: number, b: number) => a | b }), { only: 'bool' }),
  Xor: binary(() => ({ f: (a: number, b: number) => a ^ b }), { only: 'bool' }),
  Sum: elementwise({ fns: any(add), variadic: true }, 2),
  Max: elementwise({ fns: any(max), variadic: true }, 2),
  Min: elementwise({ fns: any(min), variadic: true }, 2),
  Mean: elementwise({
    fns: any(add), variadic: true,
    post: (n) => ({ f: (x: number) => x / n, int: (x: number) => Math.trunc(x / n), big: (x: bigint) => x / BigInt(n) }),
  }, 2),
};

/** Pow: base and exponent may differ in dtype; the result has the base's. Integer ^ integer is exact (wraps). */
const Pow: OpSpec = {
  run(node, inputs) {
    const a = need(node, inputs, 0), b = need(node, inputs, 1);
    const ka = kindOf(a.dtype), kb = kindOf(b.dtype);
    if (ka === 'string' || kb === 'string') throw opError(node, 'does not take string tensors');
    const intA = ka !== 'float', intB = kb !== 'float';
    let fn: ElemFn;
    if (intA && intB) {
      fn = ka === 'big'
        ? (x: number | bigint, y: number | bigint) => powBig(BigInt(x), BigInt(y))
        : (x: number, y: number | bigint) => Number(BigInt.asIntN(32, powBig(BigInt(x), BigInt(y))));
    } else if (ka === 'big') fn = (x: bigint, y: number | bigint) => toBig(Math.pow(Number(x), Number(y)));
    else fn = (x: number, y: number | bigint) => Math.pow(x, Number(y)); // into an int array: truncates, as numpy's astype
    const r = mapBroadcast(node, [a.dims, b.dims], [values(a), values(b)], (n) => outValues(node, a.dtype, n), fn);
    return [finish(a.dtype, r.dims, r.out)];
  },
};

/** A scalar bound of Clip (opset 11+: an optional input of X's dtype). */
function bound(node: OpNode, t: OnnxTensor | undefined, dtype: OnnxDType, which: string): number | bigint | undefined {
  if (!t) return undefined;
  if (t.dtype !== dtype) throw opError(node, `${which} is ${t.dtype}, X is ${dtype}`);
  if (t.data.length !== 1) throw opError(node, `${which} must be a scalar, got shape [${t.dims.join(', ')}]`);
  return values(t)[0] as number | bigint;
}

/** Clip: min/max are attributes before opset 11, optional scalar inputs from 11; min > max gives max. */
const Clip: OpSpec = {
  run(node, inputs) {
    const x = need(node, inputs, 0);
    const kind = kindOf(x.dtype);
    if (kind === 'string' || kind === 'bool') throw opError(node, `does not take ${x.dtype} tensors`);
    let lo: number | bigint | undefined, hi: number | bigint | undefined;
    if (node.opset < 11) {
      lo = node.attrs.float('min', -Infinity);
      hi = node.attrs.float('max', Infinity);
    } else {
      lo = bound(node, inputs[1], x.dtype, 'min');
      hi = bound(node, inputs[2], x.dtype, 'max');
    }
    const fn = (v: number) => {
      if (lo !== undefined && v < lo) v = lo as number;
      if (hi !== undefined && v > hi) v = hi as number;
      return v;
    };
    const r = mapBroadcast(node, [x.dims], [values(x)], (n) => outValues(node, x.dtype, n), fn);
    return [finish(x.dtype, r.dims, r.out)];
  },
};

/** Where(cond, X, Y): copies X's or Y's elements (any dtype, bits as they are). */
const Where: OpSpec = {
  run(node, inputs) {
    const c = need(node, inputs, 0);
    const [x, y] = sameDtype(node, [inputs[1], inputs[2]]);
    if (c.dtype !== 'bool') throw opError(node, `condition is ${c.dtype}, expected bool`);
    const raw = (n: number) => {
      if (!(n <= MAX_ELEMENTS)) throw opError(node, `the output would have ${n} elements (more than ${MAX_ELEMENTS})`);
      return allocData(x.dtype, n) as OutValues;
    };
    const r = mapBroadcast(node, [c.dims, x.dims, y.dims], [c.data as Values, x.data as Values, y.data as Values], raw, (k, a, b) => (k ? a : b));
    return [{ dtype: x.dtype, dims: r.dims, data: r.out as unknown as OnnxTensor['data'] }];
  },
};

// ---- Cast

/** ONNX's float spellings (Cast from string): INF, +INF, -INF, NaN, and decimal or scientific numbers. */
function parseFloatString(s: string): number {
  const t = s.trim().toLowerCase();
  if (/^[+]?inf(inity)?$/.test(t)) return Infinity;
  if (/^-inf(inity)?$/.test(t)) return -Infinity;
  const v = Number(t);
  return t === '' ? NaN : v;
}

/** The shortest decimal that reads back as the same float32 (numpy's str of a float32). */
function float32String(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'INF' : '-INF';
  for (let p = 1; p < 9; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === x) return String(Number(s));
  }
  return String(Number(x.toPrecision(9)));
}

/** A converter of one compute value from `from`'s kind to `to`'s compute representation. */
function converter(node: OpNode, from: OnnxDType, to: OnnxDType): ElemFn {
  const kf = kindOf(from), kt = kindOf(to);
  if (kf === 'string') {
    if (kt === 'string') return (s: string) => s;
    if (kt === 'big') return (s: string) => (/^\s*[+-]?\d+\s*$/.test(s) ? BigInt.asIntN(64, BigInt(s.trim())) : toBig(parseFloatString(s)));
    if (kt === 'bool') return (s: string) => +(parseFloatString(s) !== 0);
    return (s: string) => parseFloatString(s); // int targets truncate on store
  }
  if (kt === 'string') {
    if (from === 'float32') return (x: number) => float32String(x);
    if (kf === 'float') return (x: number) => (Number.isNaN(x) ? 'NaN' : x === Infinity ? 'INF' : x === -Infinity ? '-INF' : String(x));
    return (x: number | bigint) => String(x);
  }
  if (kt === 'bool') return kf === 'big' ? (x: bigint) => +(x !== 0n) : (x: number) => +(x !== 0); // NaN is true, as numpy
  if (kt === 'big') return kf === 'big' ? (x: bigint) => x : kf === 'float' ? (x: number) => toBig(x) : (x: number) => BigInt(x);
  // int targets: the typed array's store truncates toward zero and wraps what is out of range (undefined in ONNX)
  if (kt === 'int') return kf === 'big' ? (x: bigint) => Number(BigInt.asIntN(32, x)) : (x: number) => x;
  return kf === 'big' ? (x: bigint) => Number(x) : (x: number) => x; // float targets; half encodes in finish
}

function cast(node: OpNode, x: OnnxTensor, to: OnnxDType): OnnxTensor {
  const r = mapBroadcast(node, [x.dims], [values(x)], (n) => outValues(node, to, n), converter(node, x.dtype, to));
  return finish(to, r.dims, r.out);
}

const Cast: OpSpec = {
  check(node) {
    const to = node.attrs.int('to');
    if (to === undefined) return "attribute 'to' is missing";
    return DTYPE_BY_CODE[to] ? undefined : `'to' = ${to} is a dtype wasmzoo does not run (complex or float8)`;
  },
  run(node, inputs) {
    return [cast(node, need(node, inputs, 0), DTYPE_BY_CODE[node.attrs.int('to', 0)])];
  },
};

const CastLike: OpSpec = {
  run(node, inputs) {
    return [cast(node, need(node, inputs, 0), need(node, inputs, 1).dtype)];
  },
};

export const MATH_OPS: OpTable = { ...UNARY, ...BINARY, Pow, Clip, Where, Cast, CastLike };
