// Short mutation fuzzing of every reader of outside bytes (issue 15): safetensors (read, convert, load into
// LeNet-5), IDX, gzip and PyTorch checkpoints (issue 12). The same engine (tools/fuzz-lib.mjs) runs >= 1M inputs per reader in `npm run fuzz`;
// here a few thousand each, with a fresh seed per run unless FUZZ_SEED is set (printed on failure to replay).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fuzzRange, makeReaders, onnxSeeds, pthSeeds, type FindingKind, type Reader } from '../../tools/fuzz-lib.mjs';
import { WasmzooError } from '../../src/errors.js';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { readIdx, readIdxGz } from '../../src/io/idx.js';
import { LeNet5 } from '../../src/models/lenet.js';
import { inspectOnnx } from '../../src/onnx/session.js';
import { readPth } from '../../src/io/pth.js';


const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const readers = makeReaders({
  readSafetensors, writeSafetensors, readIdx, readIdxGz, WasmzooError, LeNet5, inspectOnnx, onnxSeeds: onnxSeeds(), readPth, pthSeeds: pthSeeds(),
  lenetBytes: new Uint8Array(readFileSync(new URL('../../weights/lenet5-fashion.safetensors', import.meta.url))),
});

async function fuzz(reader: Reader, count: number) {
  const findings: string[] = [];
  const onFinding = (kind: FindingKind, i: number, _input: Uint8Array, detail: string) => {
    if (findings.length < 5) findings.push(`${kind} at input ${i} (FUZZ_SEED=${SEED}): ${detail}`);
  };
  const stats = await fuzzRange(reader, { seed: SEED, to: count, onFinding });
  expect(findings).toEqual([]);
  expect(stats).toMatchObject({ inputs: count, crashes: 0, invalid: 0, changed: 0, hangs: 0 });
  expect(stats.accepted).toBeGreaterThan(0); // the mutations are not all trivially refused
  expect(stats.refused).toBeGreaterThan(count / 10);
  return stats;
}

describe(`mutation fuzz (seed ${SEED})`, () => {
  it('safetensors: read, convert and load into LeNet-5: clean refusal or a consistent load, a failed load changes nothing', async () => {
    await fuzz(readers.safetensors, 3000);
  }, 60_000);

  it('IDX: clean refusal or dims that match the data', async () => {
    await fuzz(readers.idx, 20_000);
  }, 60_000);

  it('gzip (readIdxGz): clean refusal or a consistent IDX', async () => {
    await fuzz(readers.gzip, 3000);
  }, 60_000);

  it('PyTorch checkpoints (readPth, then load into LeNet-5): clean refusal or consistent tensors, a failed load changes nothing', async () => {
    await fuzz(readers.pth!, 3000);
  }, 120_000);

  // seeds are conformance-suite models (CI installs libonnx-testdata; never committed)
  it.skipIf(!readers.onnx)('ONNX (inspectOnnx: decode, check every node, fold constants): clean refusal or a consistent report', async () => {
    await fuzz(readers.onnx!, 3000);
  }, 120_000);
});
