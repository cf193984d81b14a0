/**
 * A one-line progress bar on stderr, drawn only on a terminal (or with WASMZOO_PROGRESS=1, for tests): pipes
 * and CI logs stay clean. Redraws at most every 50 ms; `done()` clears the line.
 */
export interface Progress {
  update(done: number, total: number | undefined, note?: string): void;
  done(): void;
}

interface Tty {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

export function progressBar(label: string, out: Tty = process.stderr as Tty): Progress {
  const on = !!out.isTTY || process.env.WASMZOO_PROGRESS === '1';
  if (!on) return { update() {}, done() {} };
  let last = 0;
  let drawn = false;
  return {
    update(done, total, note = '') {
      const now = Date.now();
      if (drawn && now - last < 50 && !(total !== undefined && done >= total)) return;
      last = now;
      drawn = true;
      const width = Math.max(10, Math.min(30, (out.columns ?? 80) - label.length - 40));
      let line: string;
      if (total) {
        const f = Math.min(1, done / total);
        const full = Math.round(f * width);
        line = `${label} [${'#'.repeat(full)}${'-'.repeat(width - full)}] ${(f * 100).toFixed(0).padStart(3)}% ${note}`;
      } else {
        line = `${label} ${note}`;
      }
      out.write(`\r${line.trimEnd()}\x1b[K`);
    },
    done() {
      if (drawn) out.write('\r\x1b[K');
      drawn = false;
    },
  };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
