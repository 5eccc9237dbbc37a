#!/usr/bin/env node
// npm run bench:metrics — the compiled bench lives in dist/ (npx tsc -p tsconfig.json first).
import '../../dist/bench/metrics/metrics.js';
