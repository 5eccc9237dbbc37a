#!/usr/bin/env node
// npm run bench:clip — the compiled bench lives in dist/ (npx tsc -p tsconfig.json first).
import '../../dist/bench/clip/clip.js';
