// Tiny static file server for the browser smoke tests (and for trying the bundles by hand):
//   /dist/...      -> <repo>/dist
//   /fixtures/...  -> <repo>/test/platform/fixtures
//   /test/...      -> <repo>/test (golden files, images, weights)
//   /weights/, /assets/, /web/ -> the shipped weights, sample images and the demo web app (npm run web);
//   / and /web redirect to /web/, /favicon.ico is the app's icon
// Binds 127.0.0.1 on a random port unless one is given. `coi: true` adds COOP/COEP headers
// (cross-origin isolation, needed for SharedArrayBuffer / threads).
//
// CLI: node tools/platform/serve.mjs [port] [--coi]   then open http://127.0.0.1:<port>/fixtures/esm.html
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const DEFAULT_MOUNTS = {
  '/dist/': join(ROOT, 'dist'),
  '/fixtures/': join(ROOT, 'test/platform/fixtures'),
  '/test/': join(ROOT, 'test'), // goldens, images, weights for later model smoke tests
  '/weights/': join(ROOT, 'weights'),
  '/assets/': join(ROOT, 'assets'),
  '/web/': join(ROOT, 'web'), // the demo web app (npm run web)
};
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.css': 'text/css; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.safetensors': 'application/octet-stream',
};

/** @returns {Promise<{ url: string, port: number, close: () => Promise<void>, log: string[] }>} */
// `handler(req, res, path)`: optional, tried first; return true when it answered (tests add slow or broken routes).
export function serve({ port = 0, host = '127.0.0.1', mounts = DEFAULT_MOUNTS, coi = false, handler } = {}) {
  const log = [];
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const headers = { 'cache-control': 'no-store' };
    if (handler && (await handler(req, res, path))) {
      log.push(`handler ${req.method} ${path}`);
      return;
    }
    if (coi) Object.assign(headers, { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
    // `/` and `/web` lead to the demo app; browsers ask for /favicon.ico whatever the page links
    if (mounts['/web/'] && (path === '/' || path === '/web')) {
      res.writeHead(302, { ...headers, location: '/web/' });
      res.end();
      log.push(`302 ${req.method} ${path}`);
      return;
    }
    if (mounts['/web/'] && path === '/favicon.ico') {
      const body = await readFile(join(mounts['/web/'], 'icons', 'icon-32.png'));
      res.writeHead(200, { ...headers, 'content-type': 'image/png', 'content-length': body.byteLength });
      res.end(body);
      log.push(`200 ${req.method} ${path}`);
      return;
    }
    // A directory path serves its index.html (the demo app at /web/).
    const prefix = Object.keys(mounts).find((p) => path.startsWith(p));
    let status = 404;
    if (prefix) {
      const base = resolve(mounts[prefix]);
      const file = normalize(join(base, path.slice(prefix.length)));
      if (file === base || file.startsWith(base + sep)) {
        try {
          const st = await stat(file);
          const target = st.isDirectory() && path.endsWith('/') ? join(file, 'index.html') : file;
          if ((await stat(target)).isFile()) {
            const body = await readFile(target);
            status = 200;
            res.writeHead(200, { ...headers, 'content-type': TYPES[extname(target)] ?? 'application/octet-stream', 'content-length': body.byteLength });
            res.end(body);
          }
        } catch {}
      }
    }
    if (status !== 200) {
      res.writeHead(404, { ...headers, 'content-type': 'text/plain' });
      res.end(`not found: ${path}\n`);
    }
    log.push(`${status} ${req.method} ${path}`);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      const p = server.address().port;
      ok({
        url: `http://${host}:${p}`,
        port: p,
        log,
        close: () => new Promise((done) => { server.closeAllConnections?.(); server.close(() => done()); }),
      });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 8080);
  const s = await serve({ port, coi: process.argv.includes('--coi') });
  console.log(`serving ${Object.entries(DEFAULT_MOUNTS).map(([k, v]) => `${k} -> ${v}`).join(', ')}`);
  console.log(process.argv.includes('--web') ? `demo app: ${s.url}/web/` : `open ${s.url}/fixtures/esm.html (demo app: ${s.url}/web/)`);
}
