#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ (built by `npm install`).
import('../dist/src/cli/main.js').then((m) => m.main(process.argv.slice(2)));
