#!/usr/bin/env node
// Builds the dashboard's assets into dist/web (run by `npm run build`, so by `npm install`):
// the page from web/ as it is (plain HTML, CSS and browser JavaScript: no bundler needed) and
// uPlot's browser build from node_modules. The user never runs a build step.
import { cpSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'vendor'), { recursive: true });
cpSync(join(root, 'web'), out, { recursive: true });
const require = createRequire(import.meta.url);
const uplotDist = join(dirname(require.resolve('uplot/package.json')), 'dist');
for (const f of ['uPlot.iife.min.js', 'uPlot.min.css']) {
  const src = join(uplotDist, f);
  if (!existsSync(src)) throw new Error(`build-web: ${src} is missing (npm install uplot)`);
  cpSync(src, join(out, 'vendor', f));
}
cpSync(join(dirname(require.resolve('uplot/package.json')), 'LICENSE'), join(out, 'vendor', 'uPlot.LICENSE'));
