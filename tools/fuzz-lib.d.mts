// Types of tools/fuzz-lib.mjs for the tests that import it (test/io/fuzz.test.ts).
export const HANG_MS: number;
export type Outcome = 'accepted' | 'refused' | 'refused-load' | 'changed' | `invalid: ${string}`;
export interface Reader {
  seeds: Uint8Array[];
  mutate(seed: Uint8Array, r: () => number): Uint8Array;
  run(input: Uint8Array): Outcome | Promise<Outcome>;
}
export interface FuzzApi {
  readSafetensors: unknown;
  writeSafetensors: unknown;
  readIdx: unknown;
  readIdxGz: unknown;
  WasmzooError: unknown;
  LeNet5: unknown;
  lenetBytes: Uint8Array;
  inspectOnnx?: unknown;
  onnxSeeds?: Uint8Array[];
  readPth?: unknown;
  pthSeeds?: Uint8Array[];
}
export interface FuzzStats {
  inputs: number;
  accepted: number;
  refused: number;
  loadRefused: number;
  crashes: number;
  invalid: number;
  changed: number;
  hangs: number;
  maxMs: number;
}
export type FindingKind = 'crash' | 'hang' | 'changed' | 'invalid';
export function rngFor(seed: number, index: number): () => number;
export function makeReaders(api: FuzzApi): { safetensors: Reader; idx: Reader; gzip: Reader; onnx?: Reader; pth?: Reader };
export function onnxSeeds(root?: string): Uint8Array[];
export function pthSeeds(root?: string): Uint8Array[];
export function inputFor(reader: Reader, seed: number, index: number): Uint8Array;
export function fuzzRange(
  reader: Reader,
  opts: {
    seed: number;
    from?: number;
    to: number;
    onInput?: (index: number) => void;
    onFinding?: (kind: FindingKind, index: number, input: Uint8Array, detail: string) => void;
    onStats?: (stats: FuzzStats) => void;
    now?: () => number;
  },
): Promise<FuzzStats>;
