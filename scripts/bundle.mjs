#!/usr/bin/env node
// Build step after `tsc`: bundle the CLI (dist/src/cli/main.js and everything it imports) into
// one CommonJS file, dist/bundle/lxts.cjs, which bin/lxts.js loads when it is present and up to
// date. Start-up time is part of every container start from the CLI (issue 2), and Node.js 20
// pays per ES module: the ESM loader itself (~5 ms on the first import) and then a resolve,
// read and compile for each of the ~30 modules `lxts execute` needs. One CommonJS file skips
// the ESM loader entirely and is read once; see docs/benchmarks.md ("Findings") for the numbers.
//
// The per-command lazy loading of src/cli/main.ts survives: esbuild turns each
// `import('./<command>.js')` into a lazily run module wrapper inside the same file, so a
// command's modules are evaluated only when that command runs.
//
// esbuild comes from the npm registry as a devDependency (its platform binary is an optional
// dependency, @esbuild/<os>-<arch>, also from the registry), so `npm install` needs no other
// network. Without esbuild (e.g. `npm install --omit=dev` of a prebuilt tree) this step is
// skipped and bin/lxts.js runs the unbundled dist/ tree: slower to start, same behaviour.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// dist/bundle/ sits at the same depth as dist/src/, so the paths the code derives from its own
// location (`../../native/lxts-exec`, `../../bin/lxts.js`) resolve to the same files.
const outDir = join(root, 'dist', 'bundle');
const outFile = join(outDir, 'lxts.cjs');
const entry = join(root, 'dist', 'src', 'cli', 'main.js');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.error('bundle: esbuild is not installed; bin/lxts.js will load the unbundled dist/ tree (slower start-up)');
  rmSync(outDir, { recursive: true, force: true });
  process.exit(0);
}
if (!existsSync(entry)) {
  console.error(`bundle: ${entry} is missing; run tsc first`);
  process.exit(1);
}
mkdirSync(outDir, { recursive: true });
await esbuild.build({
  entryPoints: [entry],
  outfile: outFile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // The sources are ES modules (strict mode); keep them strict as CommonJS.
  // import.meta.url has no CommonJS equivalent: it becomes the bundle's own file URL.
  banner: { js: '"use strict";\nvar __lxtsImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  define: { 'import.meta.url': '__lxtsImportMetaUrl' },
  logLevel: 'warning',
});

// V8 code cache for the bundle (bin/lxts.js passes it to vm.Script): compiling the bundle is
// the largest JavaScript cost left on a CLI start. V8 accepts a cache whose source has the same
// length, so the cache is tied to the exact bundle by a build id: a hash of the bundle, written
// as the bundle's last line and as the cache's first line. The cache is made by a warm-up run of
// `execute --dry-run` in a child process (so it also holds the functions that path compiles);
// a Node.js that rejects it (another version, other V8 flags) just compiles the bundle.
{
  const { readFileSync, writeFileSync, appendFileSync } = await import('node:fs');
  const { createHash } = await import('node:crypto');
  const { spawnSync } = await import('node:child_process');
  const cacheFile = outFile + '.cache';
  rmSync(cacheFile, { force: true });
  const id = createHash('sha256').update(readFileSync(outFile)).digest('hex').slice(0, 32);
  appendFileSync(outFile, `//# lxts-build-id=${id}\n`);
  const warm = `
    const { readFileSync, writeFileSync } = require('node:fs');
    const vm = require('node:vm'), Module = require('node:module');
    const file = ${JSON.stringify(outFile)};
    const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file });
    const m = { exports: {} };
    script.runInThisContext()(m.exports, Module.createRequire(file), m, file, require('node:path').dirname(file));
    m.exports.main(['execute', '--dry-run', '--', '/bin/true']).then(() => {
      writeFileSync(${JSON.stringify(cacheFile)}, Buffer.concat([Buffer.from(${JSON.stringify(id)} + '\\n'), script.createCachedData()]));
    });`;
  const r = spawnSync(process.execPath, ['-e', warm], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) console.error('bundle: no code cache (warm-up run failed); the CLI still works, a little slower to start');
}
