// npm's `prepare` hook: `npm install <git URL of the repo>` clones it, installs its devDependencies and runs
// this, so the installed package has its dist/ (the builds are not committed). A checkout that already has
// dist/ (an installed tarball, a developer's tree after a build) skips it: `npm ci` in the repo then builds
// only once, in `npm test`. Set WASMZOO_SKIP_PREPARE=1 to skip it always.
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
if (process.env.WASMZOO_SKIP_PREPARE || existsSync(new URL('../dist/wasmzoo.mjs', import.meta.url))) process.exit(0);
if (!existsSync(new URL('../node_modules/assemblyscript', import.meta.url))) {
  console.error('wasmzoo prepare: the build needs the devDependencies (assemblyscript, rollup); run `npm install` in the repo, then `npm run build`');
  process.exit(0); // not fatal: a production-only install of a checkout without dist cannot build, and says so
}
console.error('wasmzoo prepare: building dist/ (wasm kernels + bundles, about a minute)');
execSync('npm run build', { cwd: root, stdio: 'inherit' });
