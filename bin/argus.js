#!/usr/bin/env node
// The `argus` command. The TypeScript sources are compiled to dist/ by `npm ci` (the prepare script).
import '../dist/main/cli.js';
