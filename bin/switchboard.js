#!/usr/bin/env node
// The CLI, bundled per command by `npm run build` (scripts/build-cli.ts), which `npm ci` runs.
import '../dist/cli/bundle/main.js';
