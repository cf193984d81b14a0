// Thread counts for the benchmarks: `--threads=N` runs every runtime with N threads in this process;
// `--threads=1,2` runs the script once per count, each in a child process (a runtime's thread count is
// fixed when it starts: wasmzoo's shared memory and worker pool, onnxruntime-web's pthread pool), and
// hands the parent each child's JSON rows to put side by side. Without the flag: env THREADS, else 1.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The thread counts asked for (one or more), and where a child writes its rows (or undefined). */
export function threadArgs(args = process.argv.slice(2)) {
  const flag = args.find((a) => a.startsWith('--threads='));
  const counts = (flag ? flag.slice(10) : process.env.THREADS ?? '1').split(',').map(Number);
  if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--threads: expected counts like 1 or 1,2, got ${flag}`);
  const json = args.find((a) => a.startsWith('--json='))?.slice(7);
  return { counts, json };
}

/** Run `script` once per thread count in a child (stderr passes through); each child's JSON rows by count. */
export function perThreadCount(script, counts, args = process.argv.slice(2)) {
  const dir = mkdtempSync(join(tmpdir(), 'wasmzoo-bench-'));
  const rest = args.filter((a) => !a.startsWith('--threads=') && !a.startsWith('--json='));
  const results = {};
  try {
    for (const n of counts) {
      const json = join(dir, `${n}.json`);
      console.error(`\n#### ${n} thread${n > 1 ? 's' : ''}`);
      const r = spawnSync(process.execPath, [...process.execArgv, script, ...rest, `--threads=${n}`, `--json=${json}`, '--no-write'], { stdio: ['ignore', 'ignore', 'inherit'] });
      if (r.status !== 0) throw new Error(`${script} --threads=${n} failed (exit ${r.status})`);
      results[n] = JSON.parse(readFileSync(json, 'utf8'));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
