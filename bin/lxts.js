#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ (built by `npm install`). This file is CommonJS
// (bin/package.json) so that a start of `lxts` never initialises Node.js's ES module loader:
// it loads the one-file bundle dist/bundle/lxts.cjs (scripts/bundle.mjs) when that is at least
// as new as the tsc output, else the unbundled ES modules in dist/src/ (e.g. right after a
// bare `tsc`, or when esbuild was not installed).
'use strict';
const { statSync } = require('node:fs');
const { join } = require('node:path');

const dist = join(__dirname, '..', 'dist');
const bundle = join(dist, 'bundle', 'lxts.cjs');
let useBundle = false;
try {
  const b = statSync(bundle).mtimeMs;
  try {
    useBundle = b >= statSync(join(dist, 'src', 'cli', 'main.js')).mtimeMs;
  } catch {
    useBundle = true; // a bundle without the tsc output beside it
  }
} catch {
  /* no bundle */
}
if (useBundle) loadBundle(bundle).main(process.argv.slice(2));
else import('../dist/src/cli/main.js').then((m) => m.main(process.argv.slice(2)));

/**
 * require() of the bundle, with V8's code cache when scripts/bundle.mjs made one for exactly
 * this bundle (same build id on the bundle's last line and the cache's first line).
 */
function loadBundle(file) {
  const { readFileSync } = require('node:fs');
  const vm = require('node:vm');
  const Module = require('node:module');
  const src = readFileSync(file, 'utf8');
  let cachedData;
  const m = /\/\/# lxts-build-id=([0-9a-f]+)\n$/.exec(src.slice(-64));
  if (m) {
    try {
      const c = readFileSync(file + '.cache');
      const nl = c.indexOf(10);
      if (c.subarray(0, nl).toString() === m[1]) cachedData = c.subarray(nl + 1);
    } catch {
      /* no cache: compile */
    }
  }
  if (!cachedData) return require(file);
  const script = new vm.Script(Module.wrap(src), { filename: file, cachedData });
  const mod = new Module(file, module);
  mod.filename = file;
  mod.loaded = true;
  script.runInThisContext()(mod.exports, Module.createRequire(file), mod, file, join(file, '..'));
  return mod.exports;
}
