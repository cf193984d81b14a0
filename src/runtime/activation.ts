/**
 * Activations as values: a name, its kernel code and its parameter. This table is the one TypeScript place
 * an activation is defined; the kernels hold its function and derivative (assembly/activation.ts). Every
 * consumer reads the value: the fused epilogues of GEMM/conv/batch norm/add (code in `flags`, `alpha` as the
 * trailing argument), the standalone `activation` kernel, and the backward (`act_backward`, from the forward
 * output), so nothing can fall back to a wrong derivative for a code it does not know.
 *
 * Adding one (LeakyReLU shows it): a row here, its cases in assembly/activation.ts, a Module class in
 * src/nn/layers/activation.ts, and its export in src/nn/index.ts.
 */
import { WasmzooError } from '../errors.js';

interface Spec {
  /** Code in assembly/activation.ts (flags bits 1..4). */
  readonly code: number;
  /** Why the derivative from the forward output is not exact for this alpha, if it is not. */
  readonly noBackward?: (alpha: number) => string | undefined;
}

const SPECS = {
  identity: { code: 0 },
  relu: { code: 1 },
  tanh: { code: 2 },
  sigmoid: { code: 3 },
  // torch.nn.LeakyReLU(negative_slope): x > 0 ? x : negative_slope * x. The derivative is read off the
  // output (y > 0 iff x > 0), which needs a slope >= 0.
  leaky_relu: { code: 4, noBackward: (a: number) => (a < 0 ? `a negative slope (${a})` : undefined) },
  // min(max(x, 0), cap): ReLU6 is cap 6 (ONNX Clip(0, cap) fused into a conv by wasmzoo/onnx). The derivative
  // read off the output (0 < y < cap) needs a positive cap.
  relu_cap: { code: 5, noBackward: (a: number) => (a > 0 ? undefined : `a cap <= 0 (${a})`) },
} satisfies Record<string, Spec>;

export type ActivationName = keyof typeof SPECS;

/** An activation with its parameter, as the kernels take it. Compare with `sameActivation`, or by identity for the constants. */
export interface Activation {
  readonly name: ActivationName;
  readonly code: number;
  /** The parameter (leaky_relu's negative_slope); 0 where there is none. */
  readonly alpha: number;
}

/** The activation `name` with parameter `alpha`. */
export function activation(name: ActivationName, alpha = 0): Activation {
  const spec: Spec | undefined = SPECS[name];
  if (!spec) throw new WasmzooError('E_ARGUMENT', `unknown activation ${JSON.stringify(name)}: use one of ${Object.keys(SPECS).join(', ')}`);
  if (!Number.isFinite(alpha)) throw new WasmzooError('E_ARGUMENT', `${name}: parameter must be a finite number, got ${alpha}`);
  return Object.freeze({ name, code: spec.code, alpha });
}

/** The parameterless activations as constants, and LeakyReLU by slope. */
export const Act = Object.freeze({
  None: activation('identity'),
  Relu: activation('relu'),
  Tanh: activation('tanh'),
  Sigmoid: activation('sigmoid'),
  leakyRelu: (negativeSlope = 0.01): Activation => activation('leaky_relu', negativeSlope),
});
export type Act = Activation;

/** Why a training graph cannot differentiate this activation exactly, or undefined when it can. */
export function backwardProblem(a: Activation): string | undefined {
  return (SPECS[a.name] as Spec).noBackward?.(a.alpha);
}

export const FLAG_ACCUMULATE = 1;

/** `flags` of the fused-epilogue kernels: bit 0 accumulate, bits 1..4 the activation code (alpha goes apart). */
export function epilogueFlags(act: Activation, accumulate = false): number {
  return (act.code << 1) | (accumulate ? FLAG_ACCUMULATE : 0);
}
